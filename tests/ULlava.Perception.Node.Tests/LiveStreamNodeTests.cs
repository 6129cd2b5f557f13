using System.Net;
using System.Net.Sockets;
using ULlava.Perception.Capture;
using ULlava.Perception.Capture.Tests;
using ULlava.Perception.Core.Inference;
using ULlava.Perception.Model.Inference;
using ULlava.Perception.Node.Hosting;
using ULlava.Perception.Node.Instructions;
using ULlava.Perception.Node.Pipeline;

namespace ULlava.Perception.Node.Tests;

/// <summary>The node on a live RTSP stream (Debian's GStreamer RTSP server) that goes away and comes back.</summary>
public sealed class LiveStreamNodeTests
{
    [Fact]
    public async Task TheNodeSurvivesTheServerGoingAwayAndComingBack()
    {
        int port = FreePort();
        var server = await RtspTestServer.StartAsync(port, fps: 10, width: 160, height: 120);
        using var engine = ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = Path.Combine(AppContext.BaseDirectory, "assets", "models", "ullava-tiny") });
        var options = new NodeOptions
        {
            Sources = new[] { new SourceSpec("cam0", server.Url) },
            Instructions = new[] { new StandingInstruction("loc-1", new InstructionRequest("Please locate the ball.", InstructionKind.Ground)) },
            PublishEndpoint = "tcp://127.0.0.1:0",
            CommandEndpoint = null,
            PrintFrames = false,
        };
        FfmpegStreamSource? source = null;
        var node = new PerceptionNode(options, engine, spec => source = new FfmpegStreamSource(spec.StreamId, spec.Uri,
            new FfmpegStreamOptions { MaxBackoff = TimeSpan.FromSeconds(1), StallTimeout = TimeSpan.FromSeconds(2) }), TextWriter.Null);
        using var stop = new CancellationTokenSource();
        var run = node.RunAsync(stop.Token);
        try
        {
            await WaitFor(() => node.FramesProcessed >= 3, "frames before the server goes away");
            await server.CrashAsync();
            await WaitFor(() => source!.State != Core.Frames.SourceState.Streaming, "the source to notice the server is gone");
            long before = node.FramesProcessed;
            await Task.Delay(1500);
            server = await RtspTestServer.StartAsync(port, fps: 10, width: 160, height: 120);
            await WaitFor(() => node.FramesProcessed >= before + 3, "frames after the server came back");
            Assert.True(source!.ReconnectCount >= 1);
            Assert.Equal((ulong)source.ReconnectCount, node.BuildStatus().Sources.Single().Reconnects); // the status (and metrics) carry it
            Assert.False(run.IsCompleted);
        }
        finally
        {
            await stop.CancelAsync();
            Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(30)));
            await server.DisposeAsync();
        }
        Assert.Null(source!.ProcessId); // no ffmpeg child outlives the node
    }

    private static async Task WaitFor(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited 60 s for {what}");
            await Task.Delay(50);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
