namespace ULlava.Perception.Recording.Replay;

/// <summary>Something recorded, at its log time (frames: capture time; commands: receive time; published: publish time).</summary>
public abstract record RecordedEvent(long LogTimeUnixNs);
