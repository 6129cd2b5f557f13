using CsCheck;
using Google.Protobuf;
using NetMQ;
using NetMQ.Sockets;
using OpenCvSharp;
using ULlava.Perception.Capture;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Model.Inference;
using ULlava.Perception.Node.Hosting;
using ULlava.Perception.Node.Instructions;
using ULlava.Perception.Node.Pipeline;
using CoreKind = ULlava.Perception.Core.Inference.InstructionKind;
using ErrorCode = ULlava.Perception.Messages.V1.ErrorCode;
using Size = OpenCvSharp.Size;

namespace ULlava.Perception.Node.Tests;

/// <summary>
/// 500 random or malformed command frames against the real node's command socket: each gets an error reply,
/// the node stays up and keeps its standing instruction.
/// </summary>
public sealed class MalformedCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("ullava-fuzz").FullName;

    public void Dispose() => Directory.Delete(dir, true);

    /// <summary>Bytes that cannot be a Command: a first tag with wire type 7 (invalid), then anything.</summary>
    private static readonly Gen<byte[]> Garbage = Gen.Byte.Array[0, 64].Select(tail => new byte[] { 0x0F }.Concat(tail).ToArray());

    /// <summary>Well-formed protobuf whose content is wrong: empty text, unknown ids, absurd numbers, unknown enums.</summary>
    private static readonly Gen<Command> Invalid = Gen.OneOf(
        Gen.String[0, 3].Where(t => string.IsNullOrWhiteSpace(t)).Select(t => new Command { AddInstruction = new AddInstruction { Spec = new InstructionSpec { Text = t, Kind = InstructionKind.Ask } } }),
        Gen.Int[5, int.MaxValue].Select(k => new Command { AddInstruction = new AddInstruction { Spec = new InstructionSpec { Text = "x", Kind = (InstructionKind)k } } }),
        Gen.Double[-1e9, -1e-3].Select(r => new Command { AddInstruction = new AddInstruction { Spec = new InstructionSpec { Text = "x", MaxRateHz = r } } }),
        Gen.UInt[4097, uint.MaxValue].Select(n => new Command { AddInstruction = new AddInstruction { Spec = new InstructionSpec { Text = "x", MaxNewTokens = n } } }),
        Gen.String[1, 12].Select(id => new Command { RemoveInstruction = new RemoveInstruction { Id = "no-such-" + id } }),
        Gen.String[1, 12].Select(s => new Command { Ask = new Ask { Spec = new InstructionSpec { Text = "x" }, StreamId = "nostream-" + s } }),
        Gen.Float[1e5f, 1e9f].Select(x => new Command { SamPrompt = new SamPrompt { Points = { new PointPrompt { X = x, Y = x, Positive = true } } } }),
        Gen.Double[1001, 1e12].Select(f => new Command { SetSampling = new SetSampling { MaxFps = f } }),
        Gen.Const(new Command()));

    [Fact]
    public async Task FiveHundredBadFramesGetFiveHundredErrorRepliesAndLoseNothing()
    {
        string clip = Path.Combine(dir, "clip.mp4");
        using (var writer = new VideoWriter(clip, FourCC.FromString("mp4v"), 10, new Size(64, 48)))
        using (var frame = new Mat(48, 64, MatType.CV_8UC3, new Scalar(120, 120, 120)))
        {
            for (int i = 0; i < 3; i++) writer.Write(frame);
        }
        using var engine = ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = Path.Combine(AppContext.BaseDirectory, "assets", "models", "ullava-tiny") });
        var options = new NodeOptions
        {
            Sources = new[] { new SourceSpec("cam0", clip) },
            Instructions = new[] { new StandingInstruction("seg-1", new Core.Inference.InstructionRequest("Please segment the square.", CoreKind.Segment)) },
            PublishEndpoint = "tcp://127.0.0.1:0",
            CommandEndpoint = "tcp://127.0.0.1:0",
            PrintFrames = false,
            MaxFps = 5,
        };
        var node = new PerceptionNode(options, engine, spec => new VideoCaptureSource(spec.StreamId, spec.Uri, loop: true), TextWriter.Null);
        using var stop = new CancellationTokenSource();
        var run = node.RunAsync(stop.Token);
        try
        {
            using var dealer = new DealerSocket();
            dealer.Connect((await node.CommandEndpoint)!);
            var frames = Gen.OneOf(Garbage.Select(b => (Bytes: b, Command: (Command?)null)), Invalid.Select(c => (Bytes: c.ToByteArray(), Command: (Command?)c)))
                .Array[500].Single(_ => true, seed: "0000000000000");
            Assert.Equal(500, frames.Length);
            var codes = new Dictionary<ErrorCode, int>();
            foreach (var (bytes, command) in frames)
            {
                Assert.True(dealer.TrySendFrame(TimeSpan.FromSeconds(5), bytes));
                var response = new NetMQMessage();
                Assert.True(dealer.TryReceiveMultipartMessage(TimeSpan.FromSeconds(30), ref response), "no reply");
                var reply = Reply.Parser.ParseFrom(response.Last.ToByteArray());
                Assert.False(reply.Ok, $"accepted: {command?.ToString() ?? Convert.ToHexString(bytes)}");
                Assert.NotEmpty(reply.Error.Message);
                codes[reply.Error.Code] = codes.GetValueOrDefault(reply.Error.Code) + 1;
            }
            Assert.Equal(500, codes.Values.Sum());
            Assert.True(codes.GetValueOrDefault(ErrorCode.Malformed) > 0 && codes.GetValueOrDefault(ErrorCode.InvalidArgument) > 0, string.Join(", ", codes));

            Assert.False(run.IsCompleted);
            Assert.Equal("seg-1", Assert.Single(node.Instructions.Snapshot).Id);
            long before = node.FramesProcessed;
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (node.FramesProcessed == before && DateTime.UtcNow < deadline) await Task.Delay(50);
            Assert.True(node.FramesProcessed > before, "the node stopped processing frames");
        }
        finally
        {
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
