using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using NetMQ;
using NetMQ.Sockets;
using ULlava.Perception.Capture;
using ULlava.Perception.Messages;
using ULlava.Perception.Messages.V1;

namespace ULlava.Cli.Soak;

/// <summary>What a soak runs: how long, and the live stream it serves.</summary>
public sealed record SoakOptions
{
    /// <summary>Length of the run from the node's first result (warm-up included: the first third).</summary>
    public double Seconds { get; init; } = 600;
    public int Fps { get; init; } = 10;
    public int Width { get; init; } = 320;
    public int Height { get; init; } = 240;
    /// <summary>Generation limit of the standing ask.</summary>
    public int MaxNewTokens { get; init; } = 16;
    /// <summary>From starting the node to its first result (model load, ffmpeg connect, first keyframe).</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromMinutes(3);
    /// <summary>SIGTERM to exit, and node exit to no child left.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(2);
    public string Python { get; init; } = "/usr/bin/python3";
    /// <summary>
    /// The memory rule's limit (VmRSS floor growth from the second third to the last). 5 % is calibrated on 10-minute runs,
    /// whose 200-s thirds give a steady floor; a one-minute smoke run's 20-s thirds swing both ways far more (-10.6 % and
    /// +17.6 % on two runs of the same build), so such a run states a looser limit instead of failing at random.
    /// </summary>
    public double MaxMemoryGrowth { get; init; } = SoakCriteria.MaxMemoryGrowth;
}

/// <summary>
/// The soak: GStreamer's RTSP server (rtsp_server.py, Debian's python3) serves a live stream; the node runs as a
/// child process, the same `ullava` executable's `node` command with two standing instructions (a segmentation
/// and an ask) publishing on a free loopback port; a subscriber here times every result; the node's VmRSS and
/// RssAnon are sampled about twenty times a second. At the end the node gets SIGTERM and must exit 0 within 2 s, and no process it started
/// (ffmpeg) may be left; the RTSP server is stopped by its pid. See <see cref="SoakCriteria"/> for the rules.
/// </summary>
public static class SoakRunner
{
    public const string Segment = "Please segment the ball.";
    public const string Ask = "What is in the image?";

    public static SoakReport Run(SoakOptions options, TextWriter log, CancellationToken cancellation)
    {
        var report = new SoakReport { PlannedSeconds = options.Seconds, MaxMemoryGrowth = options.MaxMemoryGrowth };
        string here = Path.GetDirectoryName(typeof(SoakRunner).Assembly.Location)!;
        string script = Path.Combine(here, "rtsp_server.py");
        if (!File.Exists(options.Python)) throw new InvalidOperationException($"soak needs {options.Python} with GStreamer's RTSP server (python3-gi, gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-ugly; ./run.sh test installs them)");
        if (!File.Exists(script)) throw new FileNotFoundException($"rtsp_server.py is not beside the program ({script})", script);

        Child? server = null, node = null;
        try
        {
            server = Child.Start(options.Python, [script, "--port", Port(), "--fps", Text(options.Fps), "--width", Text(options.Width), "--height", Text(options.Height)], "rtsp server");
            string url = server.WaitForLine("READY ", TimeSpan.FromSeconds(20))?["READY ".Length..].Trim()
                         ?? throw new InvalidOperationException($"the RTSP server did not start: {server.Tail()}");
            report.Source = $"{url} ({options.Fps} fps {options.Width}x{options.Height})";

            string pub = $"tcp://127.0.0.1:{Port()}", cmd = $"tcp://127.0.0.1:{Port()}";
            var (program, prefix) = UllavaCommand(here);
            string[] nodeArgs = [.. prefix, "node", "--source", $"cam0={url}", "--segment", Segment, "--ask", Ask,
                                 "--max-new-tokens", Text(options.MaxNewTokens), "--quiet", "--pub", pub, "--cmd", cmd];
            report.NodeCommand = "ullava " + string.Join(' ', nodeArgs.Skip(prefix.Length).Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a));
            log.WriteLine($"soak: {options.Seconds:F0} s on {report.Source}");
            log.WriteLine($"soak: {report.NodeCommand}");
            node = Child.Start(program, nodeArgs, "node");
            report.NodePid = node.Process.Id;

            using (var subscriber = new ResultTimer(pub)) Measure(options, report, node, subscriber, log, cancellation);
            Stop(options, report, node);
            node = null;
            report.Evaluate();
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or OperationCanceledException)
        {
            report.Failures.Add(e is OperationCanceledException ? "interrupted before the first result" : e.Message);
        }
        finally
        {
            if (node is not null) report.Failures.Add($"node killed after a failure: {node.Kill()}");
            if (server is not null)
            {
                report.ServerStopped = server.Terminate(TimeSpan.FromSeconds(3)) && !ProcFs.IsRunning(server.Identity);
                if (!report.ServerStopped) report.Failures.Add($"the RTSP server ({server.Identity}) did not stop on SIGTERM");
            }
        }
        return report;
    }

    /// <summary>Waits for the first result, then samples for the planned time (or until cancelled or the node dies).</summary>
    private static void Measure(SoakOptions options, SoakReport report, Child node, ResultTimer results, TextWriter log, CancellationToken cancellation)
    {
        var startDeadline = Stopwatch.StartNew();
        while (results.Count == 0)
        {
            if (node.Process.HasExited) throw new InvalidOperationException($"the node exited ({node.Process.ExitCode}) before its first result: {node.Tail()}");
            if (startDeadline.Elapsed > options.StartTimeout) throw new TimeoutException($"no result within {options.StartTimeout.TotalSeconds:F0} s of starting the node: {node.Tail()}");
            cancellation.ThrowIfCancellationRequested();
            Thread.Sleep(100);
        }
        report.StartupSeconds = startDeadline.Elapsed.TotalSeconds;
        results.StartClock();
        var clock = Stopwatch.StartNew();
        int nextProgress = 60;
        double nextScan = 0;
        // VmRSS and RssAnon about twenty times a second at uneven intervals: it swings by hundreds of MB within each frame (about
        // a second here) and sits at its floor only briefly; a steady 1 Hz sampling can stay in step with the frames
        // and see only one phase of them.
        var jitter = new Random(1);
        while (clock.Elapsed.TotalSeconds < options.Seconds)
        {
            double at = clock.Elapsed.TotalSeconds;
            if (ProcFs.Memory(node.Process.Id) is { } memory && !node.Process.HasExited) report.Memory.Add(new MemorySample(at, memory.Resident, memory.Anonymous));
            if (at >= nextScan)
            {
                foreach (var child in ProcFs.Descendants(node.Process.Id))
                    if (!report.ChildrenSeen.Contains(child)) report.ChildrenSeen.Add(child);
                nextScan = at + 1;
            }
            if (node.Process.HasExited)
            {
                report.Failures.Add($"the node died {at:F0} s into the run (exit {node.Process.ExitCode}): {node.Tail()}");
                break;
            }
            if (at >= nextProgress)
            {
                log.WriteLine($"soak: {at:F0} s, {results.Count} results, VmRSS {report.Memory[^1].Bytes / 1e6:F1} MB, RssAnon {report.Memory[^1].AnonymousBytes / 1e6:F1} MB");
                nextProgress += 60;
            }
            if (cancellation.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(30 + jitter.Next(40))))
            {
                report.Failures.Add($"interrupted after {clock.Elapsed.TotalSeconds:F0} of {options.Seconds:F0} s");
                break;
            }
        }
        report.Seconds = Math.Min(clock.Elapsed.TotalSeconds, options.Seconds);
        report.Latencies.AddRange(results.Samples(report.Seconds));
        report.Frames = results.Frames;
        report.LastStatus = results.LastStatus;
    }

    /// <summary>SIGTERM; exit 0 within the stop timeout; then nothing the node started may still run.</summary>
    private static void Stop(SoakOptions options, SoakReport report, Child node)
    {
        foreach (var child in ProcFs.Descendants(node.Process.Id))
            if (!report.ChildrenSeen.Contains(child)) report.ChildrenSeen.Add(child);
        if (node.Process.HasExited) return; // already reported as a death
        var watch = Stopwatch.StartNew();
        ProcFs.Signal(node.Process.Id, ProcFs.SigTerm);
        if (node.Process.WaitForExit(options.StopTimeout))
        {
            node.Process.WaitForExit(); // and its output drained
            report.StopSeconds = watch.Elapsed.TotalSeconds;
            report.ExitCode = node.Process.ExitCode;
            if (report.ExitCode != 0) report.Failures.Add($"the node exited {report.ExitCode} on SIGTERM (expected 0): {node.Tail()}");
        }
        else
        {
            report.Failures.Add($"the node did not exit within {options.StopTimeout.TotalSeconds:F0} s of SIGTERM: {node.Kill()}");
        }
        ChildProcesses.Forget(node.Process);
        // ffmpeg gets SIGKILL from the node on its way out (and the parent-death signal): give the kernel the same time.
        var deadline = Stopwatch.StartNew();
        List<ProcessIdentity> left;
        while ((left = report.ChildrenSeen.Where(ProcFs.IsRunning).ToList()).Count > 0 && deadline.Elapsed < options.StopTimeout) Thread.Sleep(20);
        report.ChildrenLeft.AddRange(left);
        foreach (var orphan in left)
        {
            report.Failures.Add($"{orphan} outlived the node");
            ProcFs.Signal(orphan.Pid, ProcFs.SigKill); // by pid, and only that very process (checked just above)
        }
    }

    /// <summary>This program as a command line: the dotnet host running us with ullava.dll, or the apphost beside it.</summary>
    public static (string Program, string[] Prefix) UllavaCommand(string here)
    {
        string dll = Path.Combine(here, "ullava.dll");
        if (Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet") return (host, [dll]);
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { } sdkHost && File.Exists(sdkHost)) return (sdkHost, [dll]);
        string apphost = Path.Combine(here, "ullava");
        return File.Exists(apphost) ? (apphost, []) : ("dotnet", [dll]);
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A loopback port free right now (the child binds it a moment later).</summary>
    private static string Port()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return Text(((IPEndPoint)listener.LocalEndpoint).Port);
    }

    /// <summary>
    /// The subscriber: every InstructionResult's latency (receipt minus the frame's capture stamp, both Unix time on
    /// this machine) and the node's statuses, on its own thread.
    /// </summary>
    private sealed class ResultTimer : IDisposable
    {
        private readonly SubscriberSocket socket = new();
        private readonly Thread thread;
        private readonly List<(long ReceivedTicks, double Ms)> samples = [];
        private readonly HashSet<ulong> frames = [];
        private volatile bool stopping;
        private long clockStart;
        private long count;

        public ResultTimer(string endpoint)
        {
            socket.Options.Linger = TimeSpan.Zero;
            socket.Connect(endpoint);
            socket.Subscribe(Topics.Results("cam0"));
            socket.Subscribe(Topics.Status);
            thread = new Thread(Receive) { IsBackground = true, Name = "soak-subscriber" };
            thread.Start();
        }

        public long Count => Interlocked.Read(ref count);
        public NodeStatus? LastStatus { get; private set; }

        public int Frames
        {
            get
            {
                lock (samples) return frames.Count;
            }
        }

        /// <summary>From now on results are counted into the run (earlier ones were warm-up before the clock).</summary>
        public void StartClock()
        {
            lock (samples)
            {
                samples.Clear();
                frames.Clear();
                clockStart = Stopwatch.GetTimestamp();
            }
        }

        public List<LatencySample> Samples(double seconds)
        {
            lock (samples)
                return samples.Select(s => new LatencySample(Stopwatch.GetElapsedTime(clockStart, s.ReceivedTicks).TotalSeconds, s.Ms))
                              .Where(s => s.AtSeconds <= seconds).ToList();
        }

        private void Receive()
        {
            var message = new NetMQMessage();
            while (!stopping)
            {
                if (!socket.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(200), ref message)) continue;
                long now = Stopwatch.GetTimestamp();
                long nowUnixNs = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
                if (message.FrameCount == 2)
                {
                    string topic = message[0].ConvertToString();
                    if (topic == Topics.Status) LastStatus = NodeStatus.Parser.ParseFrom(message[1].ToByteArray());
                    else
                    {
                        var result = InstructionResult.Parser.ParseFrom(message[1].ToByteArray());
                        lock (samples)
                        {
                            samples.Add((now, (nowUnixNs - result.Header.CaptureTimeUnixNs) / 1e6));
                            frames.Add(result.Header.Sequence);
                        }
                        Interlocked.Increment(ref count);
                    }
                }
                message = new NetMQMessage();
            }
        }

        public void Dispose()
        {
            stopping = true;
            thread.Join(TimeSpan.FromSeconds(2));
            socket.Dispose();
        }
    }

    /// <summary>A child process started through <see cref="ChildProcesses"/> (own session, dies with us), its output kept in a short tail.</summary>
    private sealed class Child
    {
        private readonly Queue<string> tail = new();
        private readonly Queue<string> stdout = new();
        private readonly SemaphoreSlim lines = new(0);

        private Child(Process process, string what)
        {
            Process = process;
            What = what;
            Identity = ProcFs.Identify(process.Id) ?? new ProcessIdentity(process.Id, 0, what);
            process.OutputDataReceived += (_, e) => Keep(e.Data, toStdout: true);
            process.ErrorDataReceived += (_, e) => Keep(e.Data, toStdout: false);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }
        public string What { get; }
        public ProcessIdentity Identity { get; }

        public static Child Start(string program, IEnumerable<string> args, string what) =>
            new(ChildProcesses.StartAsync(program, args).GetAwaiter().GetResult(), what);

        private void Keep(string? line, bool toStdout)
        {
            if (line is null) return;
            lock (tail)
            {
                tail.Enqueue(line);
                while (tail.Count > 20) tail.Dequeue();
                if (!toStdout) return;
                stdout.Enqueue(line);
                while (stdout.Count > 200) stdout.Dequeue();
            }
            lines.Release();
        }

        /// <summary>The first stdout line starting with <paramref name="prefix"/>, or null at the timeout or exit.</summary>
        public string? WaitForLine(string prefix, TimeSpan timeout)
        {
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < timeout)
            {
                lock (tail)
                {
                    while (stdout.TryDequeue(out string? line))
                        if (line.StartsWith(prefix, StringComparison.Ordinal)) return line;
                }
                if (Process.HasExited) return null;
                lines.Wait(TimeSpan.FromMilliseconds(100));
            }
            return null;
        }

        public string Tail()
        {
            lock (tail) return tail.Count == 0 ? "(no output)" : string.Join(" | ", tail);
        }

        /// <summary>SIGTERM, then SIGKILL after the grace; true when it exited on SIGTERM.</summary>
        public bool Terminate(TimeSpan grace)
        {
            if (Process.HasExited)
            {
                ChildProcesses.Forget(Process);
                return true;
            }
            ProcFs.Signal(Process.Id, ProcFs.SigTerm);
            bool exited = Process.WaitForExit(grace);
            if (!exited) Kill();
            ChildProcesses.Forget(Process);
            return exited;
        }

        /// <summary>SIGKILL by pid and reap; says what it did.</summary>
        public string Kill()
        {
            ChildProcesses.KillAsync(Process).GetAwaiter().GetResult();
            return $"{What} {Process.Id} killed; last output: {Tail()}";
        }
    }
}
