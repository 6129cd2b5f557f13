using NetMQ;
using NetMQ.Sockets;
using OpenCvSharp;
using ULlava.Perception.Capture;
using ULlava.Perception.Messages;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Model.Inference;
using ULlava.Perception.Node.Hosting;
using ULlava.Perception.Node.Instructions;
using ULlava.Perception.Node.Pipeline;
using ULlava.Perception.Transport;
using CoreKind = ULlava.Perception.Core.Inference.InstructionKind;
using Size = OpenCvSharp.Size;

namespace ULlava.Perception.Node.Tests;

/// <summary>Scale-out: two real nodes (one stream each, own node ids) behind one <see cref="ResultProxy"/> on loopback.</summary>
public sealed class ProxyNodeTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("ullava-proxy").FullName;

    public void Dispose() => Directory.Delete(dir, true);

    private string Clip(string name)
    {
        string path = Path.Combine(dir, name + ".mp4");
        using var writer = new VideoWriter(path, FourCC.FromString("mp4v"), 10, new Size(64, 48));
        using var frame = new Mat(48, 64, MatType.CV_8UC3);
        for (int i = 0; i < 4; i++)
        {
            frame.SetTo(new Scalar(200, 200, 200));
            Cv2.Circle(frame, new OpenCvSharp.Point(10 + 10 * i, 24), 8, new Scalar(30, 30, 220), -1);
            writer.Write(frame);
        }
        return path;
    }

    private PerceptionNode Node(string nodeId, string stream, ULlavaEngine engine) => new(new NodeOptions
    {
        NodeId = nodeId,
        Sources = new[] { new SourceSpec(stream, Clip(stream)) },
        Instructions = new[] { new StandingInstruction("seg-1", new Core.Inference.InstructionRequest("Please segment the red circle.", CoreKind.Segment)) },
        PublishEndpoint = "tcp://127.0.0.1:0",
        CommandEndpoint = null,
        PrintFrames = false,
        MaxFps = 4,
        StatusIntervalSeconds = 0.25,
    }, engine, spec => new VideoCaptureSource(spec.StreamId, spec.Uri, loop: true), TextWriter.Null);

    private static List<(string Topic, byte[] Payload)> Receive(SubscriberSocket socket, Func<List<(string Topic, byte[] Payload)>, bool> done, TimeSpan timeout)
    {
        var received = new List<(string, byte[])>();
        var deadline = DateTime.UtcNow + timeout;
        var message = new NetMQMessage();
        while (!done(received) && DateTime.UtcNow < deadline)
        {
            if (!socket.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(100), ref message)) continue;
            received.Add((message[0].ConvertToString(), message[1].ToByteArray()));
            message = new NetMQMessage();
        }
        return received;
    }

    [Fact]
    public async Task OneSubscriberOfTheProxySeesBothNodesAndTopicFiltersReachTheNodes()
    {
        string modelDir = Path.Combine(AppContext.BaseDirectory, "assets", "models", "ullava-tiny");
        // One engine per node: each node's model thread owns its engine.
        using var engineA = ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = modelDir });
        using var engineB = ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = modelDir });
        var a = Node("node-a", "cam0", engineA);
        var b = Node("node-b", "cam1", engineB);
        using var stop = new CancellationTokenSource();
        var runA = a.RunAsync(stop.Token);
        var runB = b.RunAsync(stop.Token);
        try
        {
            using var proxy = new ResultProxy([await a.PublishEndpoint, await b.PublishEndpoint], "tcp://127.0.0.1:0");

            // A subscriber that wants only node B's masks: its subscription goes through the proxy to both nodes'
            // publishers, so nothing else is even sent to the proxy.
            using (var masks = new SubscriberSocket())
            {
                masks.Connect(proxy.Endpoint);
                masks.Subscribe(Topics.Masks("cam1"));
                var got = Receive(masks, r => r.Count >= 3, TimeSpan.FromSeconds(90));
                Assert.True(got.Count >= 3, $"{got.Count} mask sets through the proxy");
                Assert.All(got, m => Assert.Equal(Topics.Masks("cam1"), m.Topic));
                Assert.All(got, m => Assert.Equal("cam1", MaskSet.Parser.ParseFrom(m.Payload).Header.StreamId));
                Assert.Equal([Topics.Masks("cam1")], proxy.ForwardedByTopic.Keys);
            }

            // One subscriber of everything on the proxy's endpoint: statuses of both nodes (by node id), results of
            // both streams (by stream id).
            using var all = new SubscriberSocket();
            all.Connect(proxy.Endpoint);
            all.Subscribe(Topics.Prefix);
            static IEnumerable<string> NodeIds(List<(string Topic, byte[] Payload)> r) =>
                r.Where(m => m.Topic == Topics.Status).Select(m => NodeStatus.Parser.ParseFrom(m.Payload).NodeId).Distinct();
            static IEnumerable<string> Streams(List<(string Topic, byte[] Payload)> r) =>
                r.Where(m => m.Topic.EndsWith("/results", StringComparison.Ordinal)).Select(m => InstructionResult.Parser.ParseFrom(m.Payload).Header.StreamId).Distinct();
            var everything = Receive(all, r => NodeIds(r).Count() == 2 && Streams(r).Count() == 2, TimeSpan.FromSeconds(90));
            Assert.Equal(["node-a", "node-b"], NodeIds(everything).Order());
            Assert.Equal(["cam0", "cam1"], Streams(everything).Order());
            Assert.Contains(everything, m => m.Topic == Topics.Results("cam0"));
            Assert.Contains(everything, m => m.Topic == Topics.Results("cam1"));
            // Now that someone wants everything, the proxy forwards every kind of message of both nodes.
            string[] kinds = [Topics.Status, Topics.Results("cam0"), Topics.Results("cam1"), Topics.Text("cam0"), Topics.Masks("cam0"), Topics.Masks("cam1")];
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (kinds.Except(proxy.ForwardedByTopic.Keys).Any() && DateTime.UtcNow < deadline) await Task.Delay(100);
            Assert.Empty(kinds.Except(proxy.ForwardedByTopic.Keys));
            Assert.True(proxy.SubscriptionsForwarded >= 2);
            Assert.False(runA.IsCompleted || runB.IsCompleted);
        }
        finally
        {
            await stop.CancelAsync();
            Assert.Equal(0, await runA.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal(0, await runB.WaitAsync(TimeSpan.FromSeconds(30)));
        }
    }
}
