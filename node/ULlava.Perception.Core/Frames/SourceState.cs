namespace ULlava.Perception.Core.Frames;

/// <summary>What a source is doing; published in the status so robots see a camera go away.</summary>
public enum SourceState
{
    Connecting = 1,
    Streaming = 2,
    Stalled = 3,
    Reconnecting = 4,
    Ended = 5,
    Failed = 6,
}
