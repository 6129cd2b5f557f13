namespace ULlava.Perception.Recording.Session;

public enum RecorderState
{
    Recording,
    /// <summary>Stopped on request: every file was finished with its summary.</summary>
    Stopped,
    /// <summary>A write failed (disk full, I/O error): recording stopped, see SessionRecorder.Error. Files up to the last flushed chunk are readable.</summary>
    Failed,
}
