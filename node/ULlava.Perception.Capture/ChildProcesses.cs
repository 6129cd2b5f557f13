using System.Collections.Concurrent;
using System.Diagnostics;

namespace ULlava.Perception.Capture;

/// <summary>
/// Starts helper processes (ffmpeg) so that none outlives the node:
/// - each runs in its own session (setsid), so a terminal's Ctrl-C or Ctrl-Z reaches the node, not the helper,
///   and the node decides when the helper stops;
/// - each gets PR_SET_PDEATHSIG=SIGKILL (setpriv --pdeathsig), so even a node killed with SIGKILL takes its helpers
///   along. Linux sends that signal when the *thread* that forked the child exits, so every start happens on one
///   dedicated thread that lives as long as the process (thread-pool threads come and go);
/// - the live ones are killed on a normal exit (ProcessExit, which SIGTERM also runs).
/// setsid and setpriv (util-linux) exec in place, so the pid we keep is ffmpeg's own. `ullava soak` starts its
/// RTSP server and node the same way.
/// </summary>
public static class ChildProcesses
{
    private const string SetsidPath = "/usr/bin/setsid";
    private const string SetprivPath = "/usr/bin/setpriv";

    private static readonly BlockingCollection<(ProcessStartInfo Info, TaskCompletionSource<Process> Started)> Requests = new();
    private static readonly ConcurrentDictionary<int, Process> Live = new();

    static ChildProcesses()
    {
        var launcher = new Thread(Launch) { IsBackground = true, Name = "ullava-child-launcher" };
        launcher.Start();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
    }

    /// <summary>Whether helpers get their own session and the parent-death signal on this machine.</summary>
    public static bool Contained { get; } = File.Exists(SetsidPath) && File.Exists(SetprivPath);

    /// <summary>Starts <paramref name="fileName"/> with stdin closed and stdout/stderr piped to us.</summary>
    public static Task<Process> StartAsync(string fileName, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo
        {
            FileName = Contained ? SetsidPath : fileName,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (Contained)
        {
            foreach (var a in new[] { SetprivPath, "--pdeathsig", "KILL", "--", fileName }) info.ArgumentList.Add(a);
        }
        foreach (var a in arguments) info.ArgumentList.Add(a);
        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        Requests.Add((info, started));
        return started.Task;
    }

    /// <summary>SIGKILL and reap (so /proc/pid is gone when this returns, unless the kernel is very slow).</summary>
    public static async Task KillAsync(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill: nothing left to stop.
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // SIGKILL cannot be refused; a process stuck in the kernel (D state) is reaped when it leaves it.
        }
        Forget(process);
    }

    public static void Forget(Process process)
    {
        try
        {
            Live.TryRemove(process.Id, out _);
        }
        catch (InvalidOperationException)
        {
            // Never started: never registered.
        }
    }

    private static void Launch()
    {
        foreach (var (info, started) in Requests.GetConsumingEnumerable())
        {
            try
            {
                var process = new Process { StartInfo = info };
                process.Start();
                process.StandardInput.Close();
                Live[process.Id] = process;
                started.SetResult(process);
            }
            catch (Exception e)
            {
                started.SetException(e);
            }
        }
    }

    private static void KillAll()
    {
        foreach (var process in Live.Values)
        {
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }
    }
}
