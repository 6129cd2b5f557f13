using ULlava.Perception.Core.Frames;

namespace ULlava.Perception.Capture;

/// <summary>One state change of a network source: what it was, what it is, why, and how many reconnects so far.</summary>
public sealed class SourceStateChangedEventArgs(
    SourceState previous, SourceState state, string reason, int reconnectCount, int? processId, long timeUnixNs) : EventArgs
{
    public SourceState Previous { get; } = previous;
    public SourceState State { get; } = state;

    /// <summary>Why: the first frame, the ffmpeg error, the stall, the wait before the next attempt.</summary>
    public string Reason { get; } = reason;

    /// <summary>Reconnect attempts started since the source began (the first connect is not one).</summary>
    public int ReconnectCount { get; } = reconnectCount;

    /// <summary>The ffmpeg child concerned, when one is running or just ended.</summary>
    public int? ProcessId { get; } = processId;

    public long TimeUnixNs { get; } = timeUnixNs;
}
