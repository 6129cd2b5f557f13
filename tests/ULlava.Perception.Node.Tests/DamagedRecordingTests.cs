using OpenCvSharp;
using ULlava.Perception.Capture;
using ULlava.Perception.Model.Inference;
using ULlava.Perception.Node.Hosting;
using ULlava.Perception.Node.Instructions;
using ULlava.Perception.Node.Pipeline;
using ULlava.Perception.Node.Replay;
using ULlava.Perception.Recording.Replay;
using Xunit.Abstractions;
using CoreKind = ULlava.Perception.Core.Inference.InstructionKind;
using Size = OpenCvSharp.Size;

namespace ULlava.Perception.Node.Tests;

/// <summary>
/// A real recording with bytes flipped in the middle: the reader and the replay read what is valid, report the
/// damage, never crash, and compare only results whose frames survived.
/// </summary>
public sealed class DamagedRecordingTests(ITestOutputHelper output) : IDisposable
{
    private const int Frames = 12;
    private readonly string dir = Directory.CreateTempSubdirectory("ullava-damaged").FullName;

    public void Dispose() => Directory.Delete(dir, true);

    /// <summary>Records <see cref="Frames"/> frames of noise (PNG cannot shrink noise: ~230 KB a frame, so several 1 MiB chunks).</summary>
    private static string Record(string dir, ULlavaEngine engine)
    {
        string clip = Path.Combine(dir, "noise.avi");
        var random = new Random(7);
        using (var writer = new VideoWriter(clip, FourCC.FromString("MJPG"), 10, new Size(320, 240)))
        using (var frame = new Mat(240, 320, MatType.CV_8UC3))
        {
            var pixels = new byte[240 * 320 * 3];
            for (int i = 0; i < Frames; i++)
            {
                random.NextBytes(pixels);
                System.Runtime.InteropServices.Marshal.Copy(pixels, 0, frame.Data, pixels.Length);
                writer.Write(frame);
            }
        }
        string recording = Path.Combine(dir, "session.mcap");
        var options = new NodeOptions
        {
            Sources = new[] { new SourceSpec("cam0", clip) },
            Instructions = new[] { new StandingInstruction("seg-1", new Core.Inference.InstructionRequest("Please segment the red circle.", CoreKind.Segment)) },
            PublishEndpoint = "tcp://127.0.0.1:0",
            CommandEndpoint = null,
            PrintFrames = false,
            Record = new RecordingSettings(recording),
        };
        var node = new PerceptionNode(options, engine, spec => new VideoCaptureSource(spec.StreamId, spec.Uri), TextWriter.Null);
        Assert.Equal(0, node.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(180)).GetAwaiter().GetResult());
        return recording;
    }

    [Fact]
    public async Task BytesFlippedInTheMiddleAreReportedAndTheRestReplays()
    {
        using var engine = ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = Path.Combine(AppContext.BaseDirectory, "assets", "models", "ullava-tiny") });
        string recording = Record(dir, engine);
        string file = Assert.Single(RecordingReader.Open(recording).Files);
        var intact = await File.ReadAllBytesAsync(file);
        var whole = RecordingReader.Open(recording);
        Assert.Equal(Frames, whole.ReadEvents().OfType<RecordedFrame>().Count());
        Assert.Empty(whole.Problems);

        // Anywhere in the file: a flipped run of bytes is read past (never an exception) and, where it breaks
        // something, reported. Frames never come back wrong: each one is the intact recording's frame of that sequence.
        var framesBySequence = whole.ReadEvents().OfType<RecordedFrame>().ToDictionary(f => f.Header.Sequence, f => f.Data);
        int reported = 0;
        for (int i = 1; i < 40; i++)
        {
            long at = intact.Length * i / 40;
            var damaged = (byte[])intact.Clone();
            for (long b = at; b < Math.Min(damaged.Length, at + 16); b++) damaged[b] ^= 0xA5;
            await File.WriteAllBytesAsync(file, damaged);
            var reader = RecordingReader.Open(recording);
            var frames = reader.ReadEvents().OfType<RecordedFrame>().ToList();
            if (reader.Problems.Count > 0) reported++;
            Assert.All(frames, f => Assert.Equal(framesBySequence[f.Header.Sequence], f.Data));
            Assert.True(frames.Count == Frames || reader.Problems.Count > 0, $"byte {at}: {Frames - frames.Count} frames lost without a problem reported");
        }
        Assert.True(reported >= 30, $"only {reported} of 39 flips were reported");

        // The middle, through the replay: what is readable replays equal to the recording, the rest is reported.
        var middle = (byte[])intact.Clone();
        for (int b = intact.Length / 2; b < intact.Length / 2 + 16; b++) middle[b] ^= 0xA5;
        await File.WriteAllBytesAsync(file, middle);
        var report = await ReplayRunner.RunAsync(recording, engine, realtime: false, "tcp://127.0.0.1:0", TextWriter.Null, CancellationToken.None);
        output.WriteLine($"replayed {report.FramesReplayed} of {Frames} frames; compared {report.ResultsCompared}, {report.ResultsWithoutFrame} without frame; problems: {string.Join("; ", report.Problems)}");
        // The flip may land in a chunk of results alone (where it falls depends on the recording's timing): then every
        // frame still replays, and the damage is reported all the same.
        Assert.InRange(report.FramesReplayed, 1, Frames);
        Assert.NotEmpty(report.Problems);
        Assert.Contains(Path.GetFileName(file), report.Problems[0]);
        Assert.True(report.Differences == 0, report.FirstDifference);
        Assert.True(report.ResultsCompared > 0);
    }
}
