using System.Diagnostics;
using ULlava.Perception.Capture.Tests;
using ULlava.Perception.Recording.Replay;

namespace ULlava.Cli.Tests;

/// <summary>
/// The node as a service manager runs it: a separate `ullava node` process, configured by a file and the
/// environment, stopped with SIGTERM; and the systemd unit the README installs.
/// </summary>
public sealed class NodeServiceTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("ullava-service").FullName;
    private static string Ullava => Path.Combine(AppContext.BaseDirectory, "ullava.dll");

    public void Dispose() => Directory.Delete(dir, true);

    private static Process Start(IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Ullava);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        return Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
    }

    private static void KillIfRunning(Process p)
    {
        if (!p.HasExited) p.Kill(entireProcessTree: true);
        p.WaitForExit();
        p.Dispose();
    }

    [Fact]
    public async Task SigtermStopsTheNodeWithExitZeroWithinTwoSecondsAndTheRecordingIsComplete()
    {
        string config = Path.Combine(dir, "node.yaml");
        string recording = Path.Combine(dir, "run.mcap");
        File.WriteAllText(config, $"loop: true\nquiet: true\npub: tcp://127.0.0.1:0\ncmd: none\nrecord: {recording}\nrecord-format: jpeg\nmetrics: http://127.0.0.1:0/metrics\n");
        var node = Start(["node", "--config", config], new Dictionary<string, string> { ["ULLAVA_NODE_ID"] = "service-test" });
        var log = new System.Text.StringBuilder();
        node.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        node.BeginErrorReadLine();
        try
        {
            // Wait until it has processed frames: the recording then holds some, and a frame may be in flight at the signal.
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (!File.Exists(Path.Combine(dir, "run_000.mcap")) || new FileInfo(Path.Combine(dir, "run_000.mcap")).Length < 50_000)
            {
                Assert.False(node.HasExited, $"the node exited early ({(node.HasExited ? node.ExitCode : 0)}):\n{log}");
                Assert.True(DateTime.UtcNow < deadline, $"no recorded frames after 120 s:\n{log}");
                await Task.Delay(200);
            }
            // The metrics endpoint the settings file turned on answers while the node runs.
            string logged;
            lock (log) logged = log.ToString();
            var metricsUrl = System.Text.RegularExpressions.Regex.Match(logged, @"metrics on (http://127\.0\.0\.1:\d+/metrics)").Groups[1].Value;
            Assert.NotEqual("", metricsUrl);
            using (var http = new HttpClient())
                Assert.Contains("ullava_frames_processed_total", await http.GetStringAsync(metricsUrl));
            var signalled = Stopwatch.StartNew();
            Posix.Signal(node.Id, Posix.SigTerm);
            bool exited = node.WaitForExit(2000);
            var stoppedIn = signalled.Elapsed;
            Assert.True(exited, $"still running 2 s after SIGTERM:\n{log}");
            node.WaitForExit();
            Assert.Equal(0, node.ExitCode);
            string text;
            lock (log) text = log.ToString();
            Assert.Contains("publishing on tcp://127.0.0.1:", text);
            Assert.Contains("processed ", text);
            Assert.True(stoppedIn < TimeSpan.FromSeconds(2), $"stopped in {stoppedIn}");

            // The recording was closed properly: it ends with MCAP's closing magic and reads without a problem.
            string file = Path.Combine(dir, "run_000.mcap");
            var bytes = File.ReadAllBytes(file);
            Assert.Equal(new byte[] { 0x89, (byte)'M', (byte)'C', (byte)'A', (byte)'P', (byte)'0', (byte)'\r', (byte)'\n' }, bytes[^8..]);
            var reader = RecordingReader.Open(file);
            Assert.True(reader.ReadEvents().OfType<RecordedFrame>().Any());
            Assert.Empty(reader.Problems);
        }
        finally
        {
            KillIfRunning(node);
        }
    }

    [Fact]
    public void ABadSettingFromTheEnvironmentStopsTheStartWithItsName()
    {
        var node = Start(["node", "--max-frames", "1"], new Dictionary<string, string> { ["ULLAVA_MAX_FPS"] = "fast" });
        try
        {
            string stderr = node.StandardError.ReadToEnd();
            Assert.True(node.WaitForExit(60_000));
            Assert.Equal(2, node.ExitCode);
            Assert.Contains("ULLAVA_MAX_FPS fast: expected a number from 0 to 1000", stderr);
        }
        finally
        {
            KillIfRunning(node);
        }
    }

    [Fact]
    public void TheExampleSettingsFileIsCompleteAndValid()
    {
        var node = Start(["node", "--check", "--config", Path.Combine(AppContext.BaseDirectory, "deploy", "node.example.yaml")]);
        try
        {
            string stdout = node.StandardOutput.ReadToEnd(), stderr = node.StandardError.ReadToEnd();
            Assert.True(node.WaitForExit(60_000));
            Assert.True(node.ExitCode == 0, stderr);
            Assert.StartsWith("settings ok: 1 source(s), 1 instruction(s)", stdout);
        }
        finally
        {
            KillIfRunning(node);
        }
    }

    [Fact]
    public void TheSystemdUnitVerifiesCleanly()
    {
        string unit = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "deploy", "ullava-node.service"));
        Assert.Contains("Type=notify", unit);
        Assert.Contains("ExecStart=/usr/bin/dotnet /opt/ullava/ullava.dll node --config /etc/ullava/node.yaml", unit);
        // systemd-analyze checks the executable exists: point it at this build's ullava.dll through the same dotnet.
        string local = Path.Combine(dir, "ullava-node.service");
        File.WriteAllText(local, unit.Replace("/opt/ullava/ullava.dll", Ullava));
        var verify = Process.Start(new ProcessStartInfo("systemd-analyze", ["verify", "--man=no", local])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        string stderr = verify.StandardError.ReadToEnd();
        verify.WaitForExit();
        Assert.Equal(0, verify.ExitCode);
        Assert.Equal("", stderr.Trim()); // warnings (an unknown key, a bad value) are on stderr with exit 0
    }
}
