using NetMQ;
using NetMQ.Sockets;
using OpenCvSharp;
using ULlava.Perception.Calibration;
using ULlava.Perception.Capture;
using ULlava.Perception.Core.Inference;
using InstructionKind = ULlava.Perception.Core.Inference.InstructionKind;
using ULlava.Perception.Core.Results;
using ULlava.Perception.Messages;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Model.Inference;
using ULlava.Perception.Node.Hosting;
using ULlava.Perception.Node.Instructions;
using ULlava.Perception.Node.Pipeline;
using ULlava.Perception.Node.Results;

namespace ULlava.Perception.Node.Tests;

/// <summary>The whole node on real parts: an OpenCV file source, the bundled model, a real ZeroMQ subscriber.</summary>
public sealed class PerceptionNodeTests : IDisposable
{
    private static readonly Lazy<ULlavaEngine> Engine = new(() =>
        ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = Path.Combine(AppContext.BaseDirectory, "assets", "models", "ullava-tiny") }));

    private readonly string dir = Directory.CreateTempSubdirectory("ullava-node").FullName;

    public void Dispose() => Directory.Delete(dir, true);

    private string RenderClip(int frames)
    {
        string path = Path.Combine(dir, "clip.mp4");
        using var writer = new VideoWriter(path, FourCC.FromString("mp4v"), 10, new Size(160, 120));
        using var frame = new Mat(120, 160, MatType.CV_8UC3);
        for (int i = 0; i < frames; i++)
        {
            frame.SetTo(new Scalar(220, 220, 220));
            Cv2.Circle(frame, new Point(30 + 10 * i, 60), 20, new Scalar(40, 40, 220), -1);
            writer.Write(frame);
        }
        return path;
    }

    [Fact]
    public async Task AStopDoesNotWaitForAFrameStuckInTheModelBeyondTheGrace()
    {
        string clip = RenderClip(frames: 6);
        var options = new NodeOptions
        {
            Sources = new[] { new SourceSpec("cam0", clip) },
            Instructions = new[]
            {
                new StandingInstruction("loc-1", new InstructionRequest("Please locate the red circle.", InstructionKind.Ground)),
                new StandingInstruction("loc-2", new InstructionRequest("Please locate the box.", InstructionKind.Ground)),
            },
            PublishEndpoint = "tcp://127.0.0.1:0",
            CommandEndpoint = null,
            PrintFrames = false,
            StopGrace = TimeSpan.FromMilliseconds(200),
        };
        var node = new PerceptionNode(options, Engine.Value, spec => new VideoCaptureSource(spec.StreamId, spec.Uri), TextWriter.Null);
        using var stop = new CancellationTokenSource();
        using var release = new ManualResetEventSlim();
        int publishedAfterStop = 0;
        bool stopped = false;
        node.Published += (topic, message) =>
        {
            if (Volatile.Read(ref stopped))
            {
                Interlocked.Increment(ref publishedAfterStop);
                return;
            }
            // The first frame's first result: ask for a stop, then hold the model thread there (a frame stuck in the model).
            if (message is InstructionResult { InstructionId: "loc-1" })
            {
                stop.Cancel();
                Assert.True(release.Wait(TimeSpan.FromSeconds(60)), "never released");
            }
        };
        int code = await node.RunAsync(stop.Token).WaitAsync(TimeSpan.FromSeconds(60)); // returns while the model thread is held
        Volatile.Write(ref stopped, true);
        Assert.Equal(0, code);
        Assert.True(node.ModelBusy);
        release.Set();
        for (int i = 0; i < 600 && node.ModelBusy; i++) await Task.Delay(100);
        Assert.False(node.ModelBusy);
        Assert.Equal(0, publishedAfterStop); // the second instruction's result of that frame was not published
    }

    [Fact]
    public async Task TheEngineCanBeDisposedWhileAFrameLeftAtTheStopIsStillInIt()
    {
        // What `ullava node` and every owner of an engine do: dispose it once RunAsync returns, even if a frame was
        // left in the model. The weights must outlive that frame's call (freeing them under it crashed the process).
        using var engine = ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = Path.Combine(AppContext.BaseDirectory, "assets", "models", "ullava-tiny") });
        var options = new NodeOptions
        {
            Sources = new[] { new SourceSpec("cam0", RenderClip(frames: 4)) },
            Instructions = new[] { new StandingInstruction("ask-1", new InstructionRequest("What is in the image?", InstructionKind.Ask, MaxNewTokens: 8)) },
            PublishEndpoint = "tcp://127.0.0.1:0",
            CommandEndpoint = null,
            PrintFrames = false,
            StopGrace = TimeSpan.FromMilliseconds(200),
        };
        var node = new PerceptionNode(options, engine, spec => new VideoCaptureSource(spec.StreamId, spec.Uri), TextWriter.Null);
        using var stop = new CancellationTokenSource();
        using var release = new ManualResetEventSlim();
        node.Published += (topic, message) =>
        {
            // The first streamed piece arrives inside the engine's decode: stop there and hold the call open.
            if (message is TextUpdate { Final: false } && !stop.IsCancellationRequested)
            {
                stop.Cancel();
                Assert.True(release.Wait(TimeSpan.FromSeconds(60)), "never released");
            }
        };
        Assert.Equal(0, await node.RunAsync(stop.Token).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(node.ModelBusy);
        engine.Dispose();
        Assert.False(engine.IsReleased); // the decode still holds the weights
        release.Set();
        for (int i = 0; i < 600 && node.ModelBusy; i++) await Task.Delay(100);
        Assert.False(node.ModelBusy);
        Assert.True(engine.IsReleased);
    }

    [Fact]
    public async Task AFileRunsToItsEndWithEveryFrameProcessedAndPublished()
    {
        string clip = RenderClip(frames: 6);
        var options = new NodeOptions
        {
            Sources = new[] { new SourceSpec("cam0", clip) },
            Instructions = new[] { new StandingInstruction("seg-1", new InstructionRequest("Please segment the red circle.", InstructionKind.Segment)) },
            PublishEndpoint = "tcp://127.0.0.1:0",
            CommandEndpoint = "tcp://127.0.0.1:0",
            PrintFrames = true,
        };
        var lines = new StringWriter();
        var node = new PerceptionNode(options, Engine.Value, spec => new VideoCaptureSource(spec.StreamId, spec.Uri), lines);

        using var subscriber = new SubscriberSocket();
        var received = new List<(string Topic, byte[] Payload)>();
        var run = node.RunAsync(CancellationToken.None);
        subscriber.Connect(await node.PublishEndpoint);
        subscriber.Subscribe(Topics.Prefix);
        var listening = Task.Run(() =>
        {
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (DateTime.UtcNow < deadline)
            {
                var message = new NetMQMessage();
                if (!subscriber.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(200), ref message))
                {
                    if (run.IsCompleted) return;
                    continue;
                }
                lock (received) received.Add((message[0].ConvertToString(), message[1].ToByteArray()));
            }
        });

        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(120)));
        await listening;
        Assert.Equal(6, node.FramesProcessed);
        Assert.Equal(6, lines.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("cam0 #5", lines.ToString());

        // The subscriber joined late (PUB/SUB), so it may miss the first results; everything it got must be right.
        var results = received.Where(m => m.Topic == Topics.Results("cam0")).Select(m => InstructionResult.Parser.ParseFrom(m.Payload)).ToList();
        Assert.NotEmpty(results);
        foreach (var r in results)
        {
            Assert.Equal("seg-1", r.InstructionId);
            Assert.Equal("cam0", r.Header.StreamId);
            Assert.InRange(r.Header.Sequence, 0UL, 5UL);
            var mask = Assert.Single(r.Masks);
            var pixels = CocoRle.Decode(mask.Rle.Counts, (int)mask.Rle.Width, (int)mask.Rle.Height);
            Assert.Equal((160, 120), ((int)mask.Rle.Width, (int)mask.Rle.Height));
            Assert.Equal(mask.Area, (uint)pixels.Count(p => p != 0));
            Assert.Single(r.Boxes);
            Assert.True(r.Timings.TotalMs > 0);
        }
        // Tracking is wired: every mask and box carries a track id (the tracker's association is tested in Core).
        Assert.All(results, r => Assert.True(r.Masks[0].TrackId > 0 && r.Boxes[0].TrackId > 0));
        Assert.Contains(received, m => m.Topic == Topics.Masks("cam0"));
        Assert.Contains(received, m => m.Topic == Topics.Text("cam0") && TextUpdate.Parser.ParseFrom(m.Payload).Final);
        var statuses = received.Where(m => m.Topic == Topics.Status).Select(m => NodeStatus.Parser.ParseFrom(m.Payload)).ToList();
        Assert.NotEmpty(statuses);
        Assert.Equal(Messages.V1.SourceState.Ended, statuses[^1].Sources.Single().State);
        Assert.Equal(6UL, statuses[^1].Sources.Single().FramesIn);
    }

    [Fact]
    public async Task AFramesSegmentationAndGroundingInstructionsRunAsOneBatchWithEachOnesOwnAnswer()
    {
        string clip = RenderClip(frames: 3);
        var seg = new InstructionRequest("Please segment the red circle.", InstructionKind.Segment);
        var loc = new InstructionRequest("Please locate the red circle in this picture.", InstructionKind.Ground);
        var ask = new InstructionRequest("What is in the image?", InstructionKind.Ask, MaxNewTokens: 4);
        var options = new NodeOptions
        {
            Sources = new[] { new SourceSpec("cam0", clip) },
            Instructions = new[] { new StandingInstruction("seg-1", seg), new StandingInstruction("ask-1", ask), new StandingInstruction("loc-1", loc) },
            PublishEndpoint = "tcp://127.0.0.1:0",
            CommandEndpoint = null,
        };
        var node = new PerceptionNode(options, Engine.Value, spec => new VideoCaptureSource(spec.StreamId, spec.Uri), TextWriter.Null);
        var processed = new List<ProcessedFrame>();
        node.FrameProcessed += f => { lock (processed) processed.Add(f); };
        Assert.Equal(0, await node.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(120)));

        Assert.Equal(3, processed.Count);
        foreach (var frame in processed)
        {
            // In the instructions' order, each with the answer it gets alone on that frame.
            Assert.Equal(new[] { "seg-1", "ask-1", "loc-1" }, frame.Results.Select(r => r.InstructionId));
            Assert.All(frame.Results, r => Assert.Empty(r.Error));
            using var encoded = Engine.Value.Encode(frame.Frame);
            var alone = Engine.Value.Run(encoded, seg);
            var segResult = frame.Results[0];
            // The batch's rows are GEMM rows of another height: equal up to rounding, which may flip a boundary pixel.
            double area = alone.Masks[0].Pixels.Count(p => p != 0);
            Assert.InRange(Assert.Single(segResult.Masks).Area, area * 0.995 - 1, area * 1.005 + 1);
            AssertBox(alone.Boxes[0], segResult.Boxes.Single());
            Assert.Equal(Engine.Value.Run(encoded, ask).Text, frame.Results[1].Text);
            var locResult = frame.Results[2];
            Assert.Empty(locResult.Masks);
            // One batch: both carry its one prefill time (the question between them ran alone).
            Assert.Equal(segResult.Timings.PrefillMs, locResult.Timings.PrefillMs);
            Assert.NotEqual(segResult.Timings.PrefillMs, frame.Results[1].Timings.PrefillMs);
            AssertBox(Engine.Value.Run(encoded, loc).Boxes[0], locResult.Boxes.Single());
        }

        static void AssertBox(DetectedBox expected, Box actual) =>
            Assert.Equal(new[] { expected.XMin, expected.YMin, expected.XMax, expected.YMax },
                         new[] { actual.Pixels.XMin, actual.Pixels.YMin, actual.Pixels.XMax, actual.Pixels.YMax }, (p, q) => Math.Abs(p - q) <= 1e-2f);
    }

    [Fact]
    public async Task ACalibratedStreamGivesRaysAndGroundPointsAndPublishesItsCalibration()
    {
        string clip = RenderClip(frames: 2);
        var camera = CameraModel.FromIntrinsics(160, 120, 100, 100, 79.5, 59.5, cameraName: "front", frameId: "front_optical");
        var geometry = new CameraGeometry(camera, CameraMount.FromHeightPitch(1.0, 0.6));
        var options = new NodeOptions
        {
            Sources = new[] { new SourceSpec("cam0", clip) { Camera = geometry } },
            Instructions = new[] { new StandingInstruction("seg-1", new InstructionRequest("Please segment the red circle.", InstructionKind.Segment)) },
            PublishEndpoint = "tcp://127.0.0.1:0",
            CommandEndpoint = null,
            StatusIntervalSeconds = 0.1,
            PrintFrames = false,
        };
        var node = new PerceptionNode(options, Engine.Value, spec => new VideoCaptureSource(spec.StreamId, spec.Uri), TextWriter.Null);
        using var subscriber = new SubscriberSocket();
        var run = node.RunAsync(CancellationToken.None);
        subscriber.Connect(await node.PublishEndpoint);
        subscriber.Subscribe(Topics.Prefix + "cam0/");
        InstructionResult? result = null;
        CameraCalibration? calibration = null;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((result is null || calibration is null) && DateTime.UtcNow < deadline && !(run.IsCompleted && result is null && calibration is not null))
        {
            var message = new NetMQMessage();
            if (!subscriber.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(100), ref message)) continue;
            string topic = message[0].ConvertToString();
            if (topic == Topics.Results("cam0")) result ??= InstructionResult.Parser.ParseFrom(message[1].ToByteArray());
            if (topic == Topics.Calibration("cam0")) calibration ??= CameraCalibration.Parser.ParseFrom(message[1].ToByteArray());
        }
        await run.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.NotNull(calibration);
        Assert.Equal(new double[] { 100, 0, 79.5, 0, 100, 59.5, 0, 0, 1 }, calibration!.K);
        Assert.Equal("front_optical", calibration.FrameId);
        Assert.Equal(16, calibration.CameraToRobot.Count);
        Assert.NotNull(result);
        var box = result!.Boxes[0];
        // The box centre's ray is the camera's ray through that pixel (pixel centres on integers), of unit length.
        var expected = camera.PixelToRay(new OpenCvSharp.Point2d((box.Pixels.XMin + box.Pixels.XMax) / 2 - 0.5, (box.Pixels.YMin + box.Pixels.YMax) / 2 - 0.5));
        Assert.Equal(expected.X, box.CentroidRay.X, 5);
        Assert.Equal(expected.Y, box.CentroidRay.Y, 5);
        Assert.Equal(1.0, Math.Sqrt(box.CentroidRay.X * box.CentroidRay.X + box.CentroidRay.Y * box.CentroidRay.Y + box.CentroidRay.Z * box.CentroidRay.Z), 5);
        var mask = result.Masks[0];
        if (mask.Area > 0) Assert.NotNull(mask.CentroidRay);
        // Pitched 0.6 rad down, a ray through the lower half of the image meets the ground in front of the robot.
        var low = geometry.RayAt(79.5, 110);
        Assert.True(low.HasGroundPoint && low.GroundX > 0 && Math.Abs(low.GroundZ) < 1e-6);
    }

    [Fact]
    public async Task AMissingFileEndsTheNodeWithAnErrorNamingIt()
    {
        var options = new NodeOptions
        {
            Sources = new[] { new SourceSpec("cam0", Path.Combine(dir, "nope.mp4")) },
            Instructions = new[] { new StandingInstruction("cap-1", new InstructionRequest("Describe.", InstructionKind.Caption, MaxNewTokens: 2)) },
            PublishEndpoint = "tcp://127.0.0.1:0",
            CommandEndpoint = "tcp://127.0.0.1:0",
        };
        var log = new LogLines();
        var node = new PerceptionNode(options, Engine.Value, spec => new VideoCaptureSource(spec.StreamId, spec.Uri), TextWriter.Null, log);
        Assert.Equal(1, await node.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains(log.Lines, l => l.Level == Microsoft.Extensions.Logging.LogLevel.Error && l.Text.Contains("nope.mp4", StringComparison.Ordinal));
        Assert.Equal(0, node.FramesProcessed);
    }

    [Fact]
    public void OptionsRejectDuplicateStreamIdsAndBadSourceIds()
    {
        var instruction = new[] { new StandingInstruction("a", new InstructionRequest("x")) };
        var e = Assert.Throws<ArgumentException>(() => new NodeOptions { Sources = new[] { new SourceSpec("cam0", "a.mp4"), new SourceSpec("cam0", "b.mp4") }, Instructions = instruction }.Validate());
        Assert.Contains("cam0", e.Message);
        Assert.Contains("stream id", Assert.Throws<ArgumentException>(() => SourceSpec.Parse("bad/id=a.mp4", 0)).Message);
        Assert.Equal(new SourceSpec("front", "rtsp://h/x"), SourceSpec.Parse("front=rtsp://h/x", 0));
        Assert.Equal(new SourceSpec("stream2", "rtsp://h/x?a=b"), SourceSpec.Parse("rtsp://h/x?a=b", 2));
    }

    [Fact]
    public void StandingInstructionHonoursEveryNAndMaxRate()
    {
        var everyThird = new StandingInstruction("a", new InstructionRequest("x"), everyNFrames: 3);
        var due = Enumerable.Range(0, 7).Where(i => everyThird.IsDue(new Core.Frames.FrameStamp("cam0", (ulong)i, i * 100_000_000L))).ToArray();
        Assert.Equal(new[] { 0, 3, 6 }, due);
        var twoHz = new StandingInstruction("b", new InstructionRequest("x"), maxRateHz: 2);
        var dueRate = Enumerable.Range(0, 10).Where(i => twoHz.IsDue(new Core.Frames.FrameStamp("cam0", (ulong)i, i * 100_000_000L))).ToArray();
        Assert.Equal(new[] { 0, 5 }, dueRate);
        var onlyCam1 = new StandingInstruction("c", new InstructionRequest("x"), streamIds: new[] { "cam1" });
        Assert.False(onlyCam1.IsDue(new Core.Frames.FrameStamp("cam0", 0, 0)));
    }

    /// <summary>The node's log lines, kept for assertions.</summary>
    private sealed class LogLines : Microsoft.Extensions.Logging.ILogger
    {
        public List<(Microsoft.Extensions.Logging.LogLevel Level, string Text)> Lines { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines) Lines.Add((logLevel, formatter(state, exception)));
        }
    }
}
