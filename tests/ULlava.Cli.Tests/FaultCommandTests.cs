using OpenCvSharp;
using TorchSharp;

namespace ULlava.Cli.Tests;

/// <summary>
/// Faults through the real `ullava` program: what the user sees is one line naming the problem, exit 1, no stack
/// trace, no hang. (The libraries' own tests cover the same faults one level down.)
/// </summary>
public sealed class FaultCommandTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);
    private readonly string dir = Directory.CreateTempSubdirectory("ullava-faults").FullName;

    public void Dispose() => Directory.Delete(dir, true);

    private static void AssertOneClearLine(string stderr, string expected)
    {
        // Before the node starts: `ullava node: ...`; once it runs, the node's log (`crit: ... the node stopped: ...`).
        var line = Assert.Single(stderr.Split('\n'), l => l.Contains(expected, StringComparison.Ordinal));
        Assert.True(line.StartsWith("ullava ", StringComparison.Ordinal) || line.Contains(" crit: ", StringComparison.Ordinal) || line.Contains(" fail: ", StringComparison.Ordinal), line);
        Assert.DoesNotContain("   at ", stderr); // no stack trace
        Assert.DoesNotContain("Exception", stderr);
    }

    [Theory]
    [InlineData("/dev/video99", "camera device not found: /dev/video99")]
    [InlineData("cam0=/no/such/folder/clip.mp4", "video file not found: /no/such/folder/clip.mp4")]
    public void ASourceThatDoesNotExistIsNamed(string source, string expected)
    {
        var (code, _, stderr) = UllavaProcess.Run(Limit, "node", "--source", source, "--pub", "tcp://127.0.0.1:0", "--cmd", "none", "--quiet");
        Assert.Equal(1, code);
        AssertOneClearLine(stderr, expected);
    }

    [Fact]
    public void CudaOnAMachineWithoutAGpuIsAClearError()
    {
        if (torch.cuda.is_available()) return; // a GPU host: nothing to refuse
        var (code, _, stderr) = UllavaProcess.Run(Limit, "node", "--device", "cuda", "--pub", "tcp://127.0.0.1:0", "--cmd", "none", "--quiet");
        Assert.Equal(1, code);
        AssertOneClearLine(stderr, "device cuda was requested but CUDA is not available");
        Assert.Contains("--libtorch", stderr); // and says what to do
        Assert.DoesNotContain("Trace from", stderr);
    }

    [Fact]
    public void AReplayOfACorruptedRecordingReplaysTheRestAndReportsTheDamage()
    {
        // Noise frames (PNG cannot shrink them): 12 frames make several 1 MiB chunks.
        string clip = Path.Combine(dir, "noise.avi");
        var random = new Random(3);
        using (var writer = new VideoWriter(clip, FourCC.FromString("MJPG"), 10, new OpenCvSharp.Size(320, 240)))
        using (var frame = new Mat(240, 320, MatType.CV_8UC3))
        {
            var pixels = new byte[240 * 320 * 3];
            for (int i = 0; i < 12; i++)
            {
                random.NextBytes(pixels);
                System.Runtime.InteropServices.Marshal.Copy(pixels, 0, frame.Data, pixels.Length);
                writer.Write(frame);
            }
        }
        string recording = Path.Combine(dir, "session.mcap");
        var recorded = UllavaProcess.Run(Limit, "node", "--source", $"cam0={clip}", "--record", recording, "--pub", "tcp://127.0.0.1:0", "--cmd", "none", "--quiet");
        Assert.True(recorded.Code == 0, recorded.Stderr);
        string file = Path.Combine(dir, "session_000.mcap");
        var bytes = File.ReadAllBytes(file);
        for (int b = bytes.Length / 2; b < bytes.Length / 2 + 16; b++) bytes[b] ^= 0xA5;
        File.WriteAllBytes(file, bytes);

        var (code, stdout, stderr) = UllavaProcess.Run(Limit, "replay", recording, "--pub", "tcp://127.0.0.1:0", "--quiet");
        Assert.True(code == 0, stdout + "\n" + stderr);
        // The flip lands in a zstd chunk: the codec refuses it (Malformed) or it decodes and the CRC does (the
        // file differs from run to run, so either can happen).
        Assert.Matches(@"recording: session_000\.mcap: (ChunkCrcMismatch|Malformed) at byte \d+", stderr);
        Assert.Contains("the readable part was replayed", stderr);
        Assert.Matches(@"replayed (\d|1[01]) frames and 0 commands; compared \d+ results: all equal to the recording", stdout);
        Assert.DoesNotContain("   at ", stderr);
    }
}
