using System.Diagnostics;
using System.Globalization;
using ULlava.Perception.Core.Frames;

namespace ULlava.Perception.Capture;

/// <summary>
/// A network stream (rtsp, rtsps, http(s), udp, srt, rtmp) decoded by an ffmpeg child process that writes raw RGB
/// frames to its stdout (OpenCV's bundled FFmpeg has no network protocols). Live: it reconnects with capped
/// exponential backoff when the stream ends, stalls or cannot be reached, until cancelled or disposed.
/// <para>
/// The frame size comes from ffmpeg's own stderr (the rawvideo output stream line, printed before the first frame)
/// rather than from a separate ffprobe: one connection instead of two, no race with a stream that changes between
/// the probe and the read, and no extra seconds per reconnect. A stream that changes size mid-session is not
/// followed (the raw pipe has no frame headers); set <see cref="FfmpegStreamOptions.OutputSize"/> to pin the size.
/// </para>
/// <para>
/// StreamTimestampNs stays null: the raw pipe carries no timestamps, and pairing per-frame timestamps printed on
/// stderr (showinfo) with frames on stdout would join two pipes read at different moments.
/// </para>
/// </summary>
public sealed class FfmpegStreamSource : IFrameSource
{
    private static readonly TimeSpan WatchdogPeriod = TimeSpan.FromMilliseconds(50);

    private readonly FfmpegStreamOptions options;
    private readonly Lock stateLock = new();
    private readonly CancellationTokenSource disposed = new();
    private volatile SourceState state = SourceState.Connecting;
    private volatile string? lastError;
    private volatile Process? current;
    private Task running = Task.CompletedTask;
    private int started;
    private int reconnects;
    private ulong sequence;
    private long lastFrameTimestamp;

    public FfmpegStreamSource(string streamId, string uri, FfmpegStreamOptions? options = null)
    {
        StreamId = streamId;
        Uri = uri;
        this.options = options ?? new FfmpegStreamOptions();
        Scheme = SchemeOf(uri) ?? throw new ArgumentException($"'{uri}' is not a network uri (scheme://...)", nameof(uri));
    }

    public string StreamId { get; }
    public string Uri { get; }
    public bool IsLive => true;
    public SourceState State => state;
    public string? LastError => lastError;
    public FfmpegStreamOptions Options => options;

    /// <summary>Lower-case scheme of <see cref="Uri"/> ("rtsp").</summary>
    public string Scheme { get; }

    /// <summary>Reconnect attempts started since <see cref="RunAsync"/> began (the first connect is not one).</summary>
    public int ReconnectCount => Volatile.Read(ref reconnects);

    /// <summary>The running ffmpeg child, or null between attempts.</summary>
    public int? ProcessId => current is { } p ? SafeId(p) : null;

    /// <summary>Every state change, with its reason; raised on the thread that made it (keep handlers short).</summary>
    public event EventHandler<SourceStateChangedEventArgs>? StateChanged;

    /// <summary>"rtsp://host/x" → "rtsp"; null for a path or a device.</summary>
    public static string? SchemeOf(string uri)
    {
        int i = uri.IndexOf("://", StringComparison.Ordinal);
        if (i <= 0) return null;
        string scheme = uri[..i];
        return scheme.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.') ? scheme.ToLowerInvariant() : null;
    }

    public Task RunAsync(Func<Frame, CancellationToken, ValueTask> sink, CancellationToken cancellation)
    {
        if (Interlocked.Exchange(ref started, 1) == 1) throw new InvalidOperationException($"{StreamId}: RunAsync was already called");
        ObjectDisposedException.ThrowIf(disposed.IsCancellationRequested, this);
        running = RunLoopAsync(sink, cancellation);
        return running;
    }

    private async Task RunLoopAsync(Func<Frame, CancellationToken, ValueTask> sink, CancellationToken cancellation)
    {
        await Task.Yield();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellation, disposed.Token);
        var token = linked.Token;
        FfmpegTool tool;
        try
        {
            tool = FfmpegTool.Get(options.FfmpegPath);
            if (!tool.CanRead(Scheme)) throw new NotSupportedException($"{Uri}: this ffmpeg ({tool.Path}) cannot read {Scheme}:// streams");
        }
        catch (Exception e) when (e is FileNotFoundException or NotSupportedException or IOException)
        {
            SetState(SourceState.Failed, e.Message, null);
            throw;
        }

        var backoff = options.InitialBackoff;
        int failures = 0;
        while (!token.IsCancellationRequested)
        {
            var (streamedFor, reason, pid) = await RunSessionAsync(tool, sink, token).ConfigureAwait(false);
            if (token.IsCancellationRequested) break;
            lastError = reason;
            if (streamedFor >= options.HealthyAfter)
            {
                backoff = options.InitialBackoff;
                failures = 0;
            }
            failures++;
            if (options.MaxAttempts is int max && failures >= max)
            {
                SetState(SourceState.Failed, $"{reason}; gave up after {failures} attempts", pid);
                throw new IOException(lastError);
            }
            SetState(SourceState.Reconnecting, $"{reason}; retrying in {Seconds(backoff)} s", pid);
            try
            {
                await Task.Delay(backoff, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.MaxBackoff.Ticks));
            Interlocked.Increment(ref reconnects);
        }
        SetState(SourceState.Ended, "stopped", null);
    }

    /// <summary>One ffmpeg child, from start to its end (reaped): how long it streamed, why it ended, its pid.</summary>
    private async Task<(TimeSpan StreamedFor, string Reason, int? Pid)> RunSessionAsync(
        FfmpegTool tool, Func<Frame, CancellationToken, ValueTask> sink, CancellationToken token)
    {
        Process process;
        try
        {
            process = await ChildProcesses.StartAsync(tool.Path, Arguments(tool)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return (TimeSpan.Zero, $"{Uri}: could not start ffmpeg: {e.Message}", null);
        }
        current = process;
        int pid = process.Id;
        var log = new FfmpegLog();
        var stderr = Task.Run(() => ReadStderrAsync(process, log), CancellationToken.None);
        string? killReason = null;
        var sessionStart = Stopwatch.GetTimestamp();
        long firstFrame = 0;
        Volatile.Write(ref lastFrameTimestamp, 0);

        void Kill(string reason)
        {
            Interlocked.CompareExchange(ref killReason, reason, null);
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
                // Already exited.
            }
        }

        using var stopWatchdog = new CancellationTokenSource();
        var watchdog = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(WatchdogPeriod);
            while (await timer.WaitForNextTickAsync(stopWatchdog.Token).ConfigureAwait(false))
            {
                long last = Volatile.Read(ref lastFrameTimestamp);
                if (last == 0)
                {
                    if (Stopwatch.GetElapsedTime(sessionStart) > options.ConnectTimeout)
                    {
                        Kill($"{Uri}: no frame within {Seconds(options.ConnectTimeout)} s of starting ffmpeg (pid {pid})");
                        return;
                    }
                }
                else if (Stopwatch.GetElapsedTime(last) > options.StallTimeout)
                {
                    string reason = $"{Uri}: no frame for {Seconds(options.StallTimeout)} s, stream stalled; killed ffmpeg (pid {pid})";
                    lastError = reason;
                    SetState(SourceState.Stalled, reason, pid);
                    Kill(reason);
                    return;
                }
            }
        }, CancellationToken.None);

        try
        {
            using var onCancel = token.Register(() => Kill("cancelled"));
            var stdout = process.StandardOutput.BaseStream;
            if (await log.Size.ConfigureAwait(false) is { } size)
            {
                int frameBytes = checked(size.Width * size.Height * 3);
                while (!token.IsCancellationRequested)
                {
                    var rgb = new byte[frameBytes];
                    int n = await stdout.ReadAtLeastAsync(rgb, frameBytes, throwOnEndOfStream: false, CancellationToken.None).ConfigureAwait(false);
                    if (n < frameBytes) break;
                    long now = Stopwatch.GetTimestamp();
                    var frame = new Frame(new FrameStamp(StreamId, sequence++, UnixClock.NowNs()), size.Width, size.Height, rgb);
                    if (firstFrame == 0)
                    {
                        firstFrame = now;
                        Volatile.Write(ref lastFrameTimestamp, now);
                        SetState(SourceState.Streaming, $"{Uri}: first frame {size.Width}x{size.Height} from ffmpeg (pid {pid})", pid);
                    }
                    Volatile.Write(ref lastFrameTimestamp, now);
                    try
                    {
                        await sink(frame, token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (token.IsCancellationRequested)
                    {
                        break;
                    }
                    // Time spent waiting in the sink is not the stream's fault.
                    Volatile.Write(ref lastFrameTimestamp, Stopwatch.GetTimestamp());
                }
            }
        }
        finally
        {
            stopWatchdog.Cancel();
            await ChildProcesses.KillAsync(process).ConfigureAwait(false);
            await stderr.ConfigureAwait(false);
            try
            {
                await watchdog.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopped by us.
            }
            current = null;
        }

        var streamed = firstFrame == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(firstFrame);
        string why = Volatile.Read(ref killReason) ?? Describe(process, log, firstFrame != 0);
        process.Dispose();
        return (streamed, why, pid);
    }

    private string Describe(Process process, FfmpegLog log, bool streamed)
    {
        string code = process.HasExited ? process.ExitCode.ToString(CultureInfo.InvariantCulture) : "?";
        string detail = log.LastError() ?? "no message";
        return streamed
            ? $"{Uri}: stream ended (ffmpeg exited with code {code}: {detail})"
            : $"{Uri}: could not open the stream (ffmpeg exited with code {code}: {detail})";
    }

    private static async Task ReadStderrAsync(Process process, FfmpegLog log)
    {
        try
        {
            while (await process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line) log.Add(line);
        }
        catch (IOException)
        {
            // The pipe broke with the process; what was read is kept.
        }
        finally
        {
            log.Completed();
        }
    }

    /// <summary>The ffmpeg command line: low delay in, one video stream out as raw RGB, one frame per input frame.</summary>
    internal List<string> Arguments(FfmpegTool tool)
    {
        string timeoutUs = ((long)options.SocketTimeout.TotalMicroseconds).ToString(CultureInfo.InvariantCulture);
        var args = new List<string> { "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info" };
        if (Scheme is "rtsp" or "rtsps")
        {
            args.AddRange(["-rtsp_transport", options.RtspTransport, tool.RtspTimeoutOption, timeoutUs]);
        }
        else
        {
            // rw_timeout: the generic read/write timeout of every URL protocol, in microseconds.
            args.AddRange(["-rw_timeout", timeoutUs]);
        }
        // Short probing: RTSP's SDP already carries the codec parameters, so 0.1 s of stream is enough (and every
        // probed millisecond delays the first frame of each reconnect); MPEG-TS over udp/srt/http needs longer.
        bool sdp = Scheme is "rtsp" or "rtsps";
        args.AddRange([
            "-fflags", "nobuffer", "-flags", "low_delay",
            "-probesize", sdp ? "32768" : "500000", "-analyzeduration", sdp ? "100000" : "1000000",
            "-i", Uri,
            "-map", "0:v:0", "-an", "-sn", "-dn",
        ]);
        if (options.OutputSize is { } s) args.AddRange(["-vf", $"scale={s.Width}:{s.Height}"]);
        // Passthrough: the rawvideo muxer would otherwise duplicate frames to fill timestamp gaps (a burst after a stall).
        args.AddRange(tool.HasFpsMode ? ["-fps_mode", "passthrough"] : ["-vsync", "passthrough"]);
        args.AddRange(["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]);
        return args;
    }

    private void SetState(SourceState next, string reason, int? pid)
    {
        SourceStateChangedEventArgs args;
        lock (stateLock)
        {
            var previous = state;
            state = next;
            args = new SourceStateChangedEventArgs(previous, next, reason, ReconnectCount, pid, UnixClock.NowNs());
            // Raised under the lock so handlers see the changes in the order they happened (Stalled before Reconnecting).
            StateChanged?.Invoke(this, args);
        }
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    private static int? SafeId(Process p)
    {
        try
        {
            return p.Id;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Stops the stream and kills ffmpeg; returns once the child is reaped.</summary>
    public async ValueTask DisposeAsync()
    {
        if (disposed.IsCancellationRequested) return;
        disposed.Cancel();
        try
        {
            await running.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or NotSupportedException)
        {
            // The caller of RunAsync sees these; disposal only has to stop the child.
        }
        disposed.Dispose();
    }
}
