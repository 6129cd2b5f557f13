using ULlava.Perception.Core.Frames;
using ULlava.Perception.Core.Pipeline;

namespace ULlava.Perception.Capture.Tests;

/// <summary>FfmpegStreamSource against a real GStreamer RTSP server on loopback.</summary>
public sealed class FfmpegStreamSourceTests
{
    private const int Fps = 15;
    private const double NsPerS = 1e9;

    [Fact]
    public async Task FramesArriveAtAboutTheServedRateEachStampedOnce()
    {
        await using var server = await RtspTestServer.StartAsync(Posix.FreePort(), Fps, 320, 240);
        var source = new FfmpegStreamSource("cam0", server.Url);
        var states = new StateRecorder(source);
        var frames = new FrameLog();
        using var stop = new CancellationTokenSource();
        var run = source.RunAsync(frames.Sink, stop.Token);

        await states.WaitForAsync(SourceState.Streaming, 0, TimeSpan.FromSeconds(15));
        int pid = source.ProcessId ?? throw new InvalidOperationException("no ffmpeg pid while streaming");
        // Count over 3 s once streaming (the first frames can come in a short burst after the probe).
        await Task.Delay(500);
        int before = frames.Stamps.Count;
        await Task.Delay(3000);
        double fps = (frames.Stamps.Count - before) / 3.0;
        stop.Cancel();
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.InRange(fps, 8, 20);
        var stamps = frames.Stamps;
        Assert.All(stamps, s => Assert.Equal("cam0", s.StreamId));
        Assert.Equal(Enumerable.Range(0, stamps.Count).Select(i => (ulong)i), stamps.Select(s => s.Sequence));
        Assert.True(stamps.Zip(stamps.Skip(1)).All(p => p.Second.CaptureTimeUnixNs >= p.First.CaptureTimeUnixNs), "capture times go backwards");
        Assert.InRange((UnixClock.NowNs() - stamps[^1].CaptureTimeUnixNs) / NsPerS, 0, 10);
        var last = frames.Last!;
        Assert.Equal((320, 240), (last.Width, last.Height));
        // A moving test pattern, not a blank frame.
        Assert.True(last.Rgb.Distinct().Count() > 4, "the frame is blank");
        Assert.Equal(SourceState.Ended, source.State);
        Assert.False(Posix.Exists(pid), $"ffmpeg pid {pid} outlived cancellation");
        await source.DisposeAsync();
    }

    [Fact]
    public async Task ServerCrashIsSeenWithinOneSecondAndStreamingResumesWithinTwoSecondsOfItsReturn()
    {
        int port = Posix.FreePort();
        var server = await RtspTestServer.StartAsync(port, Fps);
        try
        {
            // MaxBackoff 1 s: the wait between attempts bounds how soon a returning server is seen.
            var options = new FfmpegStreamOptions { MaxBackoff = TimeSpan.FromSeconds(1) };
            await using var source = new FfmpegStreamSource("cam0", server.Url, options);
            var states = new StateRecorder(source);
            var frames = new FrameLog();
            using var stop = new CancellationTokenSource();
            var run = source.RunAsync(frames.Sink, stop.Token);
            var (streaming, at) = await states.WaitForAsync(SourceState.Streaming, 0, TimeSpan.FromSeconds(15));
            await frames.WaitForCountAsync(10, TimeSpan.FromSeconds(10));

            long crashNs = UnixClock.NowNs();
            await server.CrashAsync();
            var (down, downAt) = await states.WaitForAsync(SourceState.Reconnecting, at + 1, TimeSpan.FromSeconds(5));
            double seenAfter = (down.TimeUnixNs - crashNs) / NsPerS;
            Assert.Contains(server.Url, down.Reason);
            int framesAtCrash = frames.Stamps.Count;

            await server.DisposeAsync();
            server = await RtspTestServer.StartAsync(port, Fps);
            long backNs = UnixClock.NowNs();
            var (again, _) = await states.WaitForAsync(SourceState.Streaming, downAt + 1, TimeSpan.FromSeconds(10));
            double resumedAfter = (again.TimeUnixNs - backNs) / NsPerS;
            await frames.WaitForCountAsync(framesAtCrash + 10, TimeSpan.FromSeconds(10));
            stop.Cancel();
            await run.WaitAsync(TimeSpan.FromSeconds(10));

            Assert.True(seenAfter < 1.0, $"the crash was seen after {seenAfter:0.000} s");
            Assert.True(resumedAfter < 2.0, $"streaming resumed {resumedAfter:0.000} s after the server returned");
            Assert.True(again.ReconnectCount >= 1);
            Assert.NotEqual(streaming.ProcessId, again.ProcessId);
            // The sequence continues across the reconnect: no reset, no gap.
            var stamps = frames.Stamps;
            Assert.Equal(Enumerable.Range(0, stamps.Count).Select(i => (ulong)i), stamps.Select(s => s.Sequence));
            Console.WriteLine($"crash seen after {seenAfter:0.000} s; streaming {resumedAfter:0.000} s after the server's READY; reconnects {again.ReconnectCount}");
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>
    /// Freshness after a freeze, defined as: (1) nothing is delivered while the server is frozen (after 0.5 s for
    /// what was already in flight); (2) the frames after the resume come from a new ffmpeg session, not from the
    /// old connection's buffers; (3) no burst: in the first second after the resume at most one second of frames
    /// (+10 for the probe's start-up burst) arrives, while replaying the freeze's backlog would deliver 4 s × 15 fps
    /// = 60 or more at once; (4) the sequence continues with no gap or reset.
    /// </summary>
    [Fact]
    public async Task FrozenServerIsReportedStalledAndFramesAfterTheResumeAreFresh()
    {
        await using var server = await RtspTestServer.StartAsync(Posix.FreePort(), Fps);
        var options = new FfmpegStreamOptions
        {
            StallTimeout = TimeSpan.FromSeconds(1),
            SocketTimeout = TimeSpan.FromSeconds(1),
            ConnectTimeout = TimeSpan.FromSeconds(4),
            MaxBackoff = TimeSpan.FromSeconds(1),
        };
        await using var source = new FfmpegStreamSource("cam0", server.Url, options);
        var states = new StateRecorder(source);
        var frames = new FrameLog();
        using var stop = new CancellationTokenSource();
        var run = source.RunAsync(frames.Sink, stop.Token);
        var (streaming, at) = await states.WaitForAsync(SourceState.Streaming, 0, TimeSpan.FromSeconds(15));
        await frames.WaitForCountAsync(10, TimeSpan.FromSeconds(10));

        long freezeNs = UnixClock.NowNs();
        server.Freeze();
        var (stalled, stalledAt) = await states.WaitForAsync(SourceState.Stalled, at + 1, TimeSpan.FromSeconds(6));
        var (reconnecting, _) = await states.WaitForAsync(SourceState.Reconnecting, stalledAt + 1, TimeSpan.FromSeconds(6));
        double detectedAfter = (stalled.TimeUnixNs - freezeNs) / NsPerS;
        await Task.Delay(TimeSpan.FromSeconds(4) - TimeSpan.FromTicks((UnixClock.NowNs() - freezeNs) / 100));

        long resumeNs = UnixClock.NowNs();
        int countAtResume = frames.Stamps.Count;
        server.Resume();
        var (again, _) = await states.WaitForAsync(SourceState.Streaming, stalledAt + 1, TimeSpan.FromSeconds(10));
        await frames.WaitForCountAsync(countAtResume + 2 * Fps, TimeSpan.FromSeconds(10));
        stop.Cancel();
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(SourceState.Streaming, stalled.Previous);
        Assert.Contains("stalled", stalled.Reason);
        Assert.Contains(server.Url, stalled.Reason);
        Assert.True(detectedAfter >= 0.9 && detectedAfter < 2.5, $"stall detected {detectedAfter:0.000} s after the freeze (timeout 1 s)");
        Assert.True(reconnecting.TimeUnixNs >= stalled.TimeUnixNs);

        var stamps = frames.Stamps;
        Assert.DoesNotContain(stamps, s => s.CaptureTimeUnixNs > freezeNs + NsPerS / 2 && s.CaptureTimeUnixNs < resumeNs);
        Assert.NotEqual(streaming.ProcessId, again.ProcessId);
        var after = stamps.Where(s => s.CaptureTimeUnixNs >= resumeNs).ToList();
        long firstAfter = after[0].CaptureTimeUnixNs;
        int inFirstSecond = after.Count(s => s.CaptureTimeUnixNs < firstAfter + (long)NsPerS);
        Assert.True(inFirstSecond <= Fps + 10, $"{inFirstSecond} frames in the first second after the resume: a backlog");
        Assert.Equal(Enumerable.Range(0, stamps.Count).Select(i => (ulong)i), stamps.Select(s => s.Sequence));
        Console.WriteLine($"stall detected {detectedAfter:0.000} s after SIGSTOP; streaming {(again.TimeUnixNs - resumeNs) / NsPerS:0.000} s after SIGCONT; {inFirstSecond} frames in the first second");
    }

    [Fact]
    public async Task SlowConsumerOnALatestFrameChannelSeesBoundedLagAndCountedDrops()
    {
        await using var server = await RtspTestServer.StartAsync(Posix.FreePort(), Fps);
        await using var source = new FfmpegStreamSource("cam0", server.Url);
        var channel = FrameChannel.LatestFrame();
        long written = 0;
        long lastWrittenSequence = -1;
        using var stop = new CancellationTokenSource();
        var run = source.RunAsync((frame, ct) =>
        {
            Interlocked.Increment(ref written);
            Interlocked.Exchange(ref lastWrittenSequence, (long)frame.Stamp.Sequence);
            return channel.WriteAsync(frame, ct);
        }, stop.Token);

        var processing = TimeSpan.FromMilliseconds(200);
        var ages = new List<double>();
        var lags = new List<long>();
        int read = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        // 15 frames at 5 per second while 15 per second arrive: a queue would fall ~2 s behind by the end.
        while (ages.Count < 15)
        {
            var frame = await channel.Reader.ReadAsync(timeout.Token);
            read++;
            if (read > 3)
            {
                // Frames the source had produced after the one we got: 0, or 1 if one landed since our read.
                lags.Add(Interlocked.Read(ref lastWrittenSequence) - (long)frame.Stamp.Sequence);
                ages.Add((UnixClock.NowNs() - frame.Stamp.CaptureTimeUnixNs) / 1e6);
            }
            await Task.Delay(processing);
        }
        stop.Cancel();
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        // Lag is counted in frames, not milliseconds: a stream that hiccups (no frame for a while under load) makes
        // the newest frame old without any backlog; a queue would show lags growing towards 30.
        Assert.True(lags.Max() <= 1, $"frames behind the newest at consumption: {string.Join(", ", lags)} (ages {string.Join(", ", ages.Select(a => a.ToString("0")))} ms)");
        Assert.True(channel.Dropped > 0);
        Assert.Equal(Interlocked.Read(ref written), read + channel.Dropped + channel.Count);
        Console.WriteLine($"max age {ages.Max():0} ms, median {ages.Order().ElementAt(ages.Count / 2):0} ms; dropped {channel.Dropped} of {written}");
    }

    [Fact]
    public async Task UnreachableServerNamesTheUrlRetriesWithBackoffAndLeavesNoProcess()
    {
        string url = $"rtsp://127.0.0.1:{Posix.FreePort()}/nothing";
        await using var source = new FfmpegStreamSource("cam0", url);
        var states = new StateRecorder(source);
        using var stop = new CancellationTokenSource();
        var run = source.RunAsync((_, _) => ValueTask.CompletedTask, stop.Token);
        await Task.Delay(TimeSpan.FromSeconds(4.5));
        Assert.Equal(SourceState.Reconnecting, source.State);
        stop.Cancel();
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        var retries = states.Changes.Where(c => c.State == SourceState.Reconnecting).ToList();
        // 0.25, 0.5, 1, 2 s waits plus ffmpeg's own time: 3 to 5 attempts in 4.5 s; without backoff, dozens.
        Assert.InRange(retries.Count, 3, 6);
        Assert.All(retries, r => Assert.Contains(url, r.Reason));
        Assert.NotNull(source.LastError);
        Assert.Contains(url, source.LastError);
        Assert.Contains("refused", source.LastError, StringComparison.OrdinalIgnoreCase);
        var defaults = new FfmpegStreamOptions();
        for (int i = 1; i < retries.Count; i++)
        {
            // The gap between two failures holds the backoff announced after the first of them.
            double wait = Math.Min(defaults.InitialBackoff.TotalSeconds * Math.Pow(2, i - 1), defaults.MaxBackoff.TotalSeconds);
            double gap = (retries[i].TimeUnixNs - retries[i - 1].TimeUnixNs) / NsPerS;
            Assert.True(gap >= wait - 0.02, $"retry {i}: {gap:0.000} s after the previous failure, backoff {wait} s");
        }
        Assert.Equal(Enumerable.Range(0, retries.Count), retries.Select(r => r.ReconnectCount));
        Assert.Equal(SourceState.Ended, source.State);
        var pids = retries.Select(r => r.ProcessId ?? throw new InvalidOperationException("a retry without its ffmpeg pid")).ToList();
        Assert.Equal(pids.Count, pids.Distinct().Count());
        Assert.All(pids, pid => Assert.False(Posix.Exists(pid), $"ffmpeg pid {pid} left behind"));
    }

    [Fact]
    public async Task UnreachableServerWithMaxAttemptsFailsWithTheUrl()
    {
        string url = $"rtsp://127.0.0.1:{Posix.FreePort()}/nothing";
        var options = new FfmpegStreamOptions { MaxAttempts = 2, InitialBackoff = TimeSpan.FromMilliseconds(50) };
        await using var source = new FfmpegStreamSource("cam0", url, options);
        var error = await Assert.ThrowsAsync<IOException>(() => source.RunAsync((_, _) => ValueTask.CompletedTask, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains(url, error.Message);
        Assert.Equal(SourceState.Failed, source.State);
        Assert.Equal(1, source.ReconnectCount);
    }

    [Fact]
    public async Task DisposeKillsAndReapsTheFfmpegChild()
    {
        await using var server = await RtspTestServer.StartAsync(Posix.FreePort(), Fps);
        var source = new FfmpegStreamSource("cam0", server.Url);
        var states = new StateRecorder(source);
        var run = source.RunAsync((_, _) => ValueTask.CompletedTask, CancellationToken.None);
        await states.WaitForAsync(SourceState.Streaming, 0, TimeSpan.FromSeconds(15));
        int pid = source.ProcessId ?? throw new InvalidOperationException("no ffmpeg pid while streaming");
        // The pid we keep is ffmpeg's own (setsid and setpriv exec in place), in a session of its own.
        Assert.Equal("ffmpeg", Posix.Comm(pid));
        if (ChildProcesses.Contained) Assert.Equal(pid, Posix.SessionId(pid));

        await source.DisposeAsync();
        Assert.True(run.IsCompleted);
        Assert.False(Posix.Exists(pid), $"ffmpeg pid {pid} outlived DisposeAsync");
        Assert.Equal(SourceState.Ended, source.State);
        Assert.Null(source.ProcessId);
    }
}
