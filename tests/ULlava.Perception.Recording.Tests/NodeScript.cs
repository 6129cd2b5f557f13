using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace ULlava.Perception.Recording.Tests;

/// <summary>Runs mcap-js/check.cjs with node: waits with a timeout, kills the process tree on failure.</summary>
public static class NodeScript
{
    public static string Directory =>
        typeof(NodeScript).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "McapJsDir").Value!;

    public static JsonElement Run(params string[] args)
    {
        var modules = Path.Combine(Directory, "node_modules", "@mcap", "core");
        Assert.True(System.IO.Directory.Exists(modules),
            $"the Node.js cross-check is not installed: run `npm ci --prefix {Directory}` (run.sh does this before the tests)");
        var start = new ProcessStartInfo("node") { WorkingDirectory = Directory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("check.cjs");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"node check.cjs {string.Join(' ', args)} (pid {process.Id}) did not finish in 120 s: killed");
        }
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"node check.cjs {string.Join(' ', args)} exited {process.ExitCode}:\n{stderr.Result}");
        return JsonDocument.Parse(stdout.Result).RootElement.Clone();
    }
}
