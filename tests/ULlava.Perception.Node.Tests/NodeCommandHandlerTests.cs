using OpenCvSharp;
using ULlava.Perception.Capture;
using ULlava.Perception.Messages.V1;
using ErrorCode = ULlava.Perception.Messages.V1.ErrorCode;
using Size = OpenCvSharp.Size;
using ULlava.Perception.Model.Inference;
using ULlava.Perception.Node.Commands;
using ULlava.Perception.Node.Hosting;
using ULlava.Perception.Node.Instructions;
using ULlava.Perception.Node.Pipeline;

namespace ULlava.Perception.Node.Tests;

/// <summary>Commands against a running node (looping file source, bundled model), through the handler the command server calls.</summary>
public sealed class NodeCommandHandlerTests : IAsyncLifetime
{
    private readonly string dir = Directory.CreateTempSubdirectory("ullava-cmd").FullName;
    private readonly CancellationTokenSource stop = new();
    private ULlavaEngine engine = null!;
    private PerceptionNode node = null!;
    private NodeCommandHandler handler = null!;
    private Task<int> run = null!;

    public async Task InitializeAsync()
    {
        string clip = Path.Combine(dir, "clip.mp4");
        using (var writer = new VideoWriter(clip, FourCC.FromString("mp4v"), 10, new Size(96, 64)))
        using (var frame = new Mat(64, 96, MatType.CV_8UC3, new Scalar(200, 200, 200)))
        {
            for (int i = 0; i < 5; i++) writer.Write(frame);
        }
        engine = ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = Path.Combine(AppContext.BaseDirectory, "assets", "models", "ullava-tiny") });
        var options = new NodeOptions
        {
            Sources = new[] { new SourceSpec("cam0", clip) },
            Instructions = Array.Empty<StandingInstruction>(),
            PublishEndpoint = "tcp://127.0.0.1:0",
            CommandEndpoint = "tcp://127.0.0.1:0",
            PrintFrames = false,
            MaxFps = 20,
        };
        node = new PerceptionNode(options, engine, spec => new VideoCaptureSource(spec.StreamId, spec.Uri, loop: true), TextWriter.Null);
        handler = new NodeCommandHandler(node);
        run = node.RunAsync(stop.Token);
        await node.PublishEndpoint;
        // Wait until the source has produced a frame, so asks have something to look at.
        var status = await Send(new Command { GetStatus = new GetStatus() });
        for (int i = 0; i < 200 && (status.Status.Sources.Count == 0 || status.Status.Sources[0].FramesIn == 0); i++)
        {
            await Task.Delay(50);
            status = await Send(new Command { GetStatus = new GetStatus() });
        }
    }

    public async Task DisposeAsync()
    {
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(30));
        engine.Dispose();
        Directory.Delete(dir, true);
    }

    private Task<Reply> Send(Command command) => handler.HandleAsync(command, CancellationToken.None);

    private static Command Add(string text, InstructionKind kind = InstructionKind.Segment) =>
        new() { RequestId = "r1", AddInstruction = new AddInstruction { Spec = new InstructionSpec { Text = text, Kind = kind } } };

    [Fact]
    public async Task AddListAndRemoveAStandingInstructionThatThenRuns()
    {
        var added = await Send(Add("Please segment the red circle."));
        Assert.True(added.Ok, added.Error?.Message);
        Assert.Equal("r1", added.RequestId);
        string id = added.Instruction.Id;
        Assert.StartsWith("seg-", id);

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (node.Instructions.Snapshot.Single(i => i.Id == id).Runs == 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.True(node.Instructions.Snapshot.Single(i => i.Id == id).Runs > 0);

        var list = await Send(new Command { ListInstructions = new ListInstructions() });
        Assert.Equal(id, Assert.Single(list.InstructionList.Instructions).Id);
        Assert.Equal("Please segment the red circle.", list.InstructionList.Instructions[0].Spec.Text);

        Assert.True((await Send(new Command { RemoveInstruction = new RemoveInstruction { Id = id } })).Ok);
        var again = await Send(new Command { RemoveInstruction = new RemoveInstruction { Id = id } });
        Assert.False(again.Ok);
        Assert.Equal(ErrorCode.NotFound, again.Error.Code);
        Assert.Equal("remove_instruction.id", again.Error.Field);
    }

    [Fact]
    public async Task OneShotAskOnTheLatestFrameAndAVideoAskAnswer()
    {
        var reply = await Send(new Command { Ask = new Ask { Spec = new InstructionSpec { Text = "What is in the image?", Kind = InstructionKind.Ask, MaxNewTokens = 3 } } });
        Assert.True(reply.Ok, reply.Error?.Message);
        Assert.Equal("cam0", reply.Result.Header.StreamId);
        Assert.Equal(3u, reply.Result.Timings.GeneratedTokens);
        Assert.Empty(reply.Result.Error);

        var video = await Send(new Command { Ask = new Ask { Spec = new InstructionSpec { Text = "What moves?", Kind = InstructionKind.Ask, MaxNewTokens = 2, Mode = InstructionMode.Video, WindowSeconds = 5, WindowFrames = 4 } } });
        Assert.True(video.Ok, video.Error?.Message);
        Assert.Empty(video.Result.Error);
        Assert.InRange(video.Result.WindowFrames, 1u, 4u);
    }

    [Fact]
    public async Task SamPointPromptGivesThreeMasksAndOutOfFramePointsAreRefused()
    {
        var prompt = new Command { SamPrompt = new Messages.V1.SamPrompt { Multimask = true } };
        prompt.SamPrompt.Points.Add(new PointPrompt { X = 40, Y = 30, Positive = true });
        var reply = await Send(prompt);
        Assert.True(reply.Ok, reply.Error?.Message);
        Assert.Equal(3, reply.Result.Masks.Count);
        Assert.All(reply.Result.Masks, m => Assert.Equal((96u, 64u), (m.Rle.Width, m.Rle.Height)));

        var outside = new Command { SamPrompt = new Messages.V1.SamPrompt() };
        outside.SamPrompt.Points.Add(new PointPrompt { X = 500, Y = 30, Positive = true });
        var refused = await Send(outside);
        Assert.False(refused.Ok);
        Assert.Equal("sam_prompt.points", refused.Error.Field);
        Assert.Contains("outside", refused.Error.Message);
    }

    [Fact]
    public async Task BadCommandsGetPreciseErrorsAndLoseNothing()
    {
        var kept = await Send(Add("Please segment the blue square."));
        Assert.True(kept.Ok);
        var cases = new (Command Command, ErrorCode Code, string Field)[]
        {
            (Add("  "), ErrorCode.InvalidArgument, "spec.text"),
            (Add("x", (InstructionKind)99), ErrorCode.InvalidArgument, "spec.kind"),
            (new Command { AddInstruction = new AddInstruction() }, ErrorCode.InvalidArgument, "add_instruction.spec"),
            (new Command { AddInstruction = new AddInstruction { Spec = new InstructionSpec { Text = "x", StreamIds = { "cam9" } } } }, ErrorCode.NotFound, "spec.stream_ids"),
            (new Command { AddInstruction = new AddInstruction { Spec = new InstructionSpec { Text = "x", MaxRateHz = -1 } } }, ErrorCode.InvalidArgument, "spec.max_rate_hz"),
            (new Command { AddInstruction = new AddInstruction { Spec = new InstructionSpec { Text = "x", Mode = InstructionMode.Video, WindowFrames = 1000 } } }, ErrorCode.InvalidArgument, "spec.window_frames"),
            (new Command { AddInstruction = new AddInstruction { Spec = new InstructionSpec { Text = "x", MaxNewTokens = 1_000_000 } } }, ErrorCode.InvalidArgument, "spec.max_new_tokens"),
            (new Command { Ask = new Ask { Spec = new InstructionSpec { Text = "x" }, StreamId = "nope" } }, ErrorCode.NotFound, "ask.stream_id"),
            (new Command { Ask = new Ask { Spec = new InstructionSpec { Text = "x" }, HasSequence = true, Sequence = 1_000_000 } }, ErrorCode.NotFound, "ask.sequence"),
            (new Command { SetSampling = new SetSampling { MaxFps = double.NaN } }, ErrorCode.InvalidArgument, "set_sampling.max_fps"),
            (new Command { RequestId = "empty" }, ErrorCode.InvalidArgument, "body"),
        };
        foreach (var (command, code, field) in cases)
        {
            var reply = await Send(command);
            Assert.False(reply.Ok, $"{command} was accepted");
            Assert.Equal(code, reply.Error.Code);
            Assert.Equal(field, reply.Error.Field);
            Assert.NotEmpty(reply.Error.Message);
        }
        Assert.Contains(node.Instructions.Snapshot, i => i.Id == kept.Instruction.Id);
        Assert.Equal(0, run.IsCompleted ? 1 : 0);
    }

    [Fact]
    public async Task PauseResumeAndSamplingShowInTheStatus()
    {
        var paused = await Send(new Command { Pause = new Pause() });
        Assert.True(paused.Status.Paused);
        var resumed = await Send(new Command { Resume = new Resume() });
        Assert.False(resumed.Status.Paused);
        var sampling = await Send(new Command { SetSampling = new SetSampling { MaxFps = 2, OnDemand = true } });
        Assert.True(sampling.Ok, sampling.Error?.Message);
    }
}
