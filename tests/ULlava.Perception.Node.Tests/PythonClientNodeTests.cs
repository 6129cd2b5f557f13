using System.Text.Json;
using OpenCvSharp;
using ULlava.Perception.Capture;
using ULlava.Perception.Messages;
using ULlava.Perception.Model.Inference;
using ULlava.Perception.Node.Hosting;
using ULlava.Perception.Node.Instructions;
using ULlava.Perception.Node.Pipeline;
using ULlava.Perception.Tests.Shared;
using Size = OpenCvSharp.Size;

namespace ULlava.Perception.Node.Tests;

/// <summary>
/// The proof that any robot stack can talk to the node: a Python subscriber and commander (Debian's python3-zmq and
/// python3-protobuf, classes from our .proto by Debian's protoc) against the real node on loopback.
/// </summary>
public sealed class PythonClientNodeTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("ullava-py").FullName;
    private readonly PythonClient python = new();

    public void Dispose()
    {
        python.Dispose();
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task PythonAddsAnInstructionReceivesItsMasksAndRemovesIt()
    {
        string clip = Path.Combine(dir, "clip.mp4");
        using (var writer = new VideoWriter(clip, FourCC.FromString("mp4v"), 10, new Size(96, 64)))
        using (var frame = new Mat(64, 96, MatType.CV_8UC3, new Scalar(90, 160, 220)))
        {
            for (int i = 0; i < 5; i++) writer.Write(frame);
        }
        using var engine = ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = Path.Combine(AppContext.BaseDirectory, "assets", "models", "ullava-tiny") });
        var options = new NodeOptions
        {
            Sources = new[] { new SourceSpec("cam0", clip) },
            Instructions = Array.Empty<StandingInstruction>(),
            PublishEndpoint = "tcp://127.0.0.1:0",
            CommandEndpoint = "tcp://127.0.0.1:0",
            PrintFrames = false,
            MaxFps = 10,
        };
        var node = new PerceptionNode(options, engine, spec => new VideoCaptureSource(spec.StreamId, spec.Uri, loop: true), TextWriter.Null);
        using var stop = new CancellationTokenSource();
        var run = node.RunAsync(stop.Token);
        try
        {
            string pub = await node.PublishEndpoint, cmd = (await node.CommandEndpoint)!;
            using var subscriber = python.Start("subscribe", "--endpoint", pub, "--topic", Topics.Results("cam0"), "--count", "1", "--timeout", "60");
            try
            {
                var (code, output) = await Task.Run(() => python.Run("command", "--endpoint", cmd, "--timeout", "30", "add", "Please segment the orange patch.", "--kind", "segment", "--stream", "cam0"));
                Assert.True(code == 0, output);
                string id = JsonDocument.Parse(output).RootElement.GetProperty("instruction").GetProperty("id").GetString()!;

                // The subscriber first announces its subscription, then prints one line per message.
                string? line;
                do line = await subscriber.StandardOutput.ReadLineAsync().WaitAsync(PythonClient.Timeout);
                while (line is not null && !line.Contains("\"topic\"", StringComparison.Ordinal));
                Assert.NotNull(line);
                using var json = JsonDocument.Parse(line!);
                var message = json.RootElement.GetProperty("message");
                Assert.Equal(id, message.GetProperty("instructionId").GetString());
                Assert.Equal("cam0", message.GetProperty("header").GetProperty("streamId").GetString());
                var mask = message.GetProperty("masks")[0];
                // The Python side decoded the COCO RLE itself: its pixel count equals the area the node reported.
                Assert.Equal(mask.TryGetProperty("area", out var area) ? area.GetInt32() : 0, json.RootElement.GetProperty("maskAreas")[0].GetInt32());

                (code, output) = await Task.Run(() => python.Run("command", "--endpoint", cmd, "--timeout", "30", "remove", id));
                Assert.True(code == 0, output);
                Assert.DoesNotContain(node.Instructions.Snapshot, i => i.Id == id);
            }
            finally
            {
                PythonClient.Kill(subscriber);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
