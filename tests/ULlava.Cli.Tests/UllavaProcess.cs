using System.Diagnostics;
using ULlava.Cli.Soak;

namespace ULlava.Cli.Tests;

/// <summary>The real `ullava` program (ullava.dll beside the tests) as a child process, its output collected; killed by pid on dispose.</summary>
internal sealed class UllavaProcess : IDisposable
{
    private readonly List<string> stdout = [];
    private readonly List<string> stderr = [];

    private UllavaProcess(Process process) => Process = process;

    public Process Process { get; }

    public string Stdout
    {
        get
        {
            lock (stdout) return string.Join('\n', stdout);
        }
    }

    public string Stderr
    {
        get
        {
            lock (stderr) return string.Join('\n', stderr);
        }
    }

    public static UllavaProcess Start(params string[] args)
    {
        var (program, prefix) = SoakRunner.UllavaCommand(AppContext.BaseDirectory);
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string a in prefix.Concat(args)) info.ArgumentList.Add(a);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start ullava");
        var child = new UllavaProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is { } l) lock (child.stdout) child.stdout.Add(l); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } l) lock (child.stderr) child.stderr.Add(l); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        return child;
    }

    /// <summary>Runs to the end: (exit code, stdout, stderr).</summary>
    public static (int Code, string Stdout, string Stderr) Run(TimeSpan timeout, params string[] args)
    {
        using var child = Start(args);
        if (!child.Process.WaitForExit(timeout)) throw new TimeoutException($"ullava {string.Join(' ', args)} ran past {timeout}: {child.Stderr}");
        child.Process.WaitForExit();
        return (child.Process.ExitCode, child.Stdout, child.Stderr);
    }

    /// <summary>The first stderr line starting with <paramref name="prefix"/>.</summary>
    public string WaitForStderr(string prefix, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            lock (stderr)
                if (stderr.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal)) is { } line) return line;
            if (Process.HasExited) break;
            Thread.Sleep(50);
        }
        throw new TimeoutException($"no stderr line '{prefix}...' within {timeout}: {Stderr}");
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
            Process.WaitForExit(5000);
        }
        Process.Dispose();
    }
}
