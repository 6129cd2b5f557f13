namespace ULlava.Perception.Capture;

/// <summary>How an <see cref="FfmpegStreamSource"/> connects, watches and reconnects.</summary>
public sealed record FfmpegStreamOptions
{
    /// <summary>The ffmpeg executable: a path, or a name looked up on PATH.</summary>
    public string FfmpegPath { get; init; } = "ffmpeg";

    /// <summary>RTSP transport: tcp (default: no loss, works through NAT), udp, http or https.</summary>
    public string RtspTransport { get; init; } = "tcp";

    /// <summary>ffmpeg's socket I/O timeout: a read or connect that hangs longer ends ffmpeg with an error.</summary>
    public TimeSpan SocketTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>From starting ffmpeg to the first frame; longer counts as a failed attempt.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>No frame for this long while streaming: the stream is stalled, ffmpeg is killed and we reconnect.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>First wait before a reconnect; doubled after every failed attempt up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(0.25);

    /// <summary>
    /// Longest wait between attempts. 2 s rather than more: a refused attempt costs one short ffmpeg start, and a
    /// robot should see its camera again within about this long (plus the connect time) after it returns.
    /// </summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A session that streamed at least this long resets the backoff and the failure count.</summary>
    public TimeSpan HealthyAfter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Consecutive failed attempts before the source gives up (state Failed); null retries until cancelled.</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>Output size (ffmpeg scales to it); null keeps the stream's own size.</summary>
    public (int Width, int Height)? OutputSize { get; init; }
}
