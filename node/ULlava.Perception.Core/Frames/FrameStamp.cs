namespace ULlava.Perception.Core.Frames;

/// <summary>
/// Where and when a frame came from, stamped once at capture and carried unchanged by everything computed
/// from it (results carry this, never the time they were computed).
/// </summary>
public sealed record FrameStamp(string StreamId, ulong Sequence, long CaptureTimeUnixNs, long? StreamTimestampNs = null);
