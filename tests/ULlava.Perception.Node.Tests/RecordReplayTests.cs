using OpenCvSharp;
using ULlava.Perception.Capture;
using ULlava.Perception.Core.Inference;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Model.Inference;
using ULlava.Perception.Node.Commands;
using ULlava.Perception.Node.Hosting;
using ULlava.Perception.Node.Instructions;
using ULlava.Perception.Node.Pipeline;
using ULlava.Perception.Node.Replay;
using ULlava.Perception.Recording.Replay;
using InstructionKind = ULlava.Perception.Core.Inference.InstructionKind;
using Size = OpenCvSharp.Size;
using WireKind = ULlava.Perception.Messages.V1.InstructionKind;

namespace ULlava.Perception.Node.Tests;

/// <summary>Record a session with live commands, replay it through the same model: float32 on CPU gives the recorded results exactly.</summary>
public sealed class RecordReplayTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("ullava-rec").FullName;

    public void Dispose() => Directory.Delete(dir, true);

    [Fact]
    public async Task ReplayingARecordingGivesTheRecordedResults()
    {
        string clip = Path.Combine(dir, "clip.mp4");
        using (var writer = new VideoWriter(clip, FourCC.FromString("mp4v"), 10, new Size(96, 64)))
        using (var frame = new Mat(64, 96, MatType.CV_8UC3))
        {
            for (int i = 0; i < 12; i++)
            {
                frame.SetTo(new Scalar(210, 210, 210));
                Cv2.Circle(frame, new Point(10 + 6 * i, 32), 9, new Scalar(30, 30, 220), -1);
                writer.Write(frame);
            }
        }
        using var engine = ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = Path.Combine(AppContext.BaseDirectory, "assets", "models", "ullava-tiny") });
        string recording = Path.Combine(dir, "session.mcap");
        var options = new NodeOptions
        {
            Sources = new[] { new SourceSpec("cam0", clip) },
            Instructions = new[] { new StandingInstruction("seg-1", new InstructionRequest("Please segment the red circle.", InstructionKind.Segment)) },
            PublishEndpoint = "tcp://127.0.0.1:0",
            CommandEndpoint = null,
            PrintFrames = false,
            Record = new RecordingSettings(recording),
        };
        PerceptionNode? node = null;
        var handler = new Lazy<NodeCommandHandler>(() => new NodeCommandHandler(node!));
        int sent = 0;
        // Live commands while the file plays: an ask instruction joins after frame 3 and leaves after frame 8.
        node = new PerceptionNode(options, engine, spec => new ThrottledSource(new VideoCaptureSource(spec.StreamId, spec.Uri), async () =>
        {
            sent++;
            if (sent == 4)
            {
                var add = await handler.Value.HandleAsync(new Command { RequestId = "add", AddInstruction = new AddInstruction { Spec = new InstructionSpec { Text = "What is it?", Kind = WireKind.Ask, MaxNewTokens = 3 } } }, CancellationToken.None);
                Assert.True(add.Ok, add.Error?.Message);
            }
            if (sent == 9)
            {
                var remove = await handler.Value.HandleAsync(new Command { RequestId = "rm", RemoveInstruction = new RemoveInstruction { Id = "ask-1" } }, CancellationToken.None);
                Assert.True(remove.Ok, remove.Error?.Message);
            }
        }), TextWriter.Null);
        Assert.Equal(0, await node.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(120)));

        var recorded = RecordingReader.Open(recording).ReadEvents().ToList();
        Assert.Equal(12, recorded.OfType<RecordedFrame>().Count());
        Assert.Equal(2, recorded.OfType<RecordedCommand>().Count());

        var report = await ReplayRunner.RunAsync(recording, engine, realtime: false, "tcp://127.0.0.1:0", TextWriter.Null, CancellationToken.None);
        Assert.True(report.Differences == 0, report.FirstDifference);
        Assert.Equal(12, report.FramesReplayed);
        Assert.Equal(2, report.CommandsReplayed);
        Assert.True(report.ResultsCompared > 12, $"only {report.ResultsCompared} results compared: the ask instruction's results are missing");
        Assert.Empty(report.Problems);
    }

    [Fact]
    public void ResultsThatDifferAreReportedWithWhatDiffers()
    {
        var a = new InstructionResult { Text = "a red circle" };
        Assert.Null(ReplayRunner.Compare(a, a.Clone()));
        Assert.Contains("text", ReplayRunner.Compare(a, new InstructionResult { Text = "a blue square" }));
        var withMask = a.Clone();
        withMask.Masks.Add(new Mask { Rle = new RleMask { Width = 2, Height = 1, Counts = { 1, 1 } }, Area = 1 });
        var otherMask = a.Clone();
        otherMask.Masks.Add(new Mask { Rle = new RleMask { Width = 2, Height = 1, Counts = { 0, 2 } }, Area = 2 });
        Assert.Contains("mask 0 pixels differ", ReplayRunner.Compare(withMask, otherMask));
    }

    /// <summary>A file source that calls back after each frame it hands over, to send live commands at known points.</summary>
    [Fact]
    public async Task StoppingARecordingByCommandKeepsEveryFrameTheModelTookBeforeIt()
    {
        // Large PNG frames and no instruction: the model thread hands frames to the recorder's encoder far faster
        // than PNG encodes them, so frames are still queued for the encoder when the stop arrives.
        string clip = Path.Combine(dir, "big.mp4");
        using (var writer = new VideoWriter(clip, FourCC.FromString("mp4v"), 10, new Size(1280, 720)))
        using (var frame = new Mat(720, 1280, MatType.CV_8UC3))
        {
            var noise = new Mat(720, 1280, MatType.CV_8UC3);
            for (int i = 0; i < 30; i++)
            {
                Cv2.Randu(noise, Scalar.All(0), Scalar.All(255)); // noise: PNG cannot compress it, so encoding is slow
                noise.CopyTo(frame);
                writer.Write(frame);
            }
            noise.Dispose();
        }
        using var engine = ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = Path.Combine(AppContext.BaseDirectory, "assets", "models", "ullava-tiny") });
        string recording = Path.Combine(dir, "stopped.mcap");
        var options = new NodeOptions
        {
            Sources = new[] { new SourceSpec("cam0", clip) },
            Instructions = Array.Empty<StandingInstruction>(),
            PublishEndpoint = "tcp://127.0.0.1:0",
            CommandEndpoint = null,
            PrintFrames = false,
            Record = new RecordingSettings(recording),
        };
        PerceptionNode? node = null;
        int sent = 0;
        long processedBeforeStop = -1;
        node = new PerceptionNode(options, engine, spec => new ThrottledSource(new VideoCaptureSource(spec.StreamId, spec.Uri), async () =>
        {
            if (++sent != 20) return;
            processedBeforeStop = node!.FramesProcessed;
            var stop = await new NodeCommandHandler(node).HandleAsync(new Command { RequestId = "stop", StopRecording = new StopRecording() }, CancellationToken.None);
            Assert.True(stop.Ok, stop.Error?.Message);
        }), TextWriter.Null);
        Assert.Equal(0, await node.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(300)));

        var frames = RecordingReader.Open(recording).ReadEvents().OfType<RecordedFrame>().Select(f => (long)f.Header.Sequence).ToList();
        Assert.True(processedBeforeStop > 0);
        Assert.True(frames.Count >= processedBeforeStop, $"{frames.Count} frames recorded, {processedBeforeStop} processed before the stop");
        Assert.Equal(Enumerable.Range(0, frames.Count).Select(i => (long)i), frames); // in order, none missing
    }

    private sealed class ThrottledSource(VideoCaptureSource inner, Func<Task> afterFrame) : Core.Frames.IFrameSource
    {
        public string StreamId => inner.StreamId;
        public string Uri => inner.Uri;
        public Core.Frames.SourceState State => inner.State;
        public string? LastError => inner.LastError;
        public bool IsLive => false;

        public Task RunAsync(Func<Core.Frames.Frame, CancellationToken, ValueTask> sink, CancellationToken cancellation) =>
            inner.RunAsync(async (frame, ct) =>
            {
                await sink(frame, ct);
                await afterFrame();
            }, cancellation);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
