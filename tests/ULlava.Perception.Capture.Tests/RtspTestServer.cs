using System.Diagnostics;

namespace ULlava.Perception.Capture.Tests;

/// <summary>
/// rtsp_server.py (GStreamer's RTSP server, videotestsrc → x264) run under Debian's /usr/bin/python3 on a loopback
/// port; started until it prints READY, stopped by pid (SIGTERM, then SIGKILL).
/// </summary>
internal sealed class RtspTestServer : IAsyncDisposable
{
    private const string Python = "/usr/bin/python3";
    private readonly Process process;
    private readonly List<string> output = [];

    private RtspTestServer(Process process, int port, string url)
    {
        this.process = process;
        Port = port;
        Url = url;
    }

    public int Port { get; }
    public string Url { get; }
    public int Pid => process.Id;

    public static async Task<RtspTestServer> StartAsync(int port, int fps = 15, int width = 320, int height = 240, string path = "/test")
    {
        string script = Path.Combine(AppContext.BaseDirectory, "rtsp_server.py");
        var info = new ProcessStartInfo(Python)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { script, "--port", port.ToString(), "--path", path, "--fps", fps.ToString(), "--width", width.ToString(), "--height", height.ToString() })
            info.ArgumentList.Add(a);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the RTSP server");
        var stderr = new List<string>();
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } l) lock (stderr) stderr.Add(l); };
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.StartsWith("READY ", StringComparison.Ordinal))
                {
                    var server = new RtspTestServer(process, port, line["READY ".Length..].Trim());
                    // Keep draining stdout so the server never blocks on a full pipe.
                    _ = Task.Run(async () =>
                    {
                        while (await process.StandardOutput.ReadLineAsync() is { } l) lock (server.output) server.output.Add(l);
                    });
                    return server;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        KillNow(process);
        string errors;
        lock (stderr) errors = string.Join("\n", stderr);
        throw new InvalidOperationException($"the RTSP server did not become ready on port {port}: {errors}");
    }

    public void Freeze() => Posix.Signal(Pid, Posix.SigStop);

    public void Resume() => Posix.Signal(Pid, Posix.SigCont);

    /// <summary>Dies like a crash: SIGKILL, reaped before this returns.</summary>
    public async Task CrashAsync()
    {
        Posix.Signal(Pid, Posix.SigKill);
        await process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            try
            {
                Posix.Signal(Pid, Posix.SigCont);
                Posix.Signal(Pid, Posix.SigTerm);
            }
            catch (InvalidOperationException)
            {
                // Exited meanwhile.
            }
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                KillNow(process);
            }
        }
        process.Dispose();
    }

    private static void KillNow(Process process)
    {
        if (process.HasExited) return;
        process.Kill();
        process.WaitForExit(5000);
    }
}
