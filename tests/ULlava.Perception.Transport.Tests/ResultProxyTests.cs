using System.Net;
using System.Net.Sockets;
using NetMQ;
using NetMQ.Sockets;
using ULlava.Perception.Messages;
using ULlava.Perception.Messages.V1;

namespace ULlava.Perception.Transport.Tests;

/// <summary>The XSUB/XPUB proxy on real sockets: two publishers behind one endpoint (the node-level test is in Node.Tests).</summary>
public sealed class ResultProxyTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    /// <summary>Publishes on both publishers until <paramref name="done"/> says the subscriber has what it needs.</summary>
    private static List<(string Topic, byte[] Payload)> PublishUntil(SubscriberSocket subscriber, Func<List<(string Topic, byte[] Payload)>, bool> done, params (ResultPublisher Publisher, string Stream)[] publishers)
    {
        var received = new List<(string, byte[])>();
        var deadline = DateTime.UtcNow + Patience;
        ulong sequence = 0;
        while (!done(received) && DateTime.UtcNow < deadline)
        {
            sequence++;
            foreach (var (publisher, stream) in publishers)
            {
                publisher.Publish(Topics.Results(stream), new InstructionResult { Header = new FrameHeader { StreamId = stream, Sequence = sequence }, InstructionId = "seg-1" });
                publisher.Publish(Topics.Status, new NodeStatus { NodeId = "node-" + stream });
            }
            var message = new NetMQMessage();
            while (subscriber.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(20), ref message))
            {
                received.Add((message[0].ConvertToString(), message[1].ToByteArray()));
                message = new NetMQMessage();
            }
        }
        return received;
    }

    [Fact]
    public void TwoPublishersReachOneSubscriberAndSubscriptionsReachThePublishers()
    {
        using var a = new ResultPublisher("tcp://127.0.0.1:0");
        using var b = new ResultPublisher("tcp://127.0.0.1:0");
        var captured = new List<string>();
        using var proxy = new ResultProxy([a.Endpoint, b.Endpoint], "tcp://127.0.0.1:0", new ResultProxyOptions { Capture = (topic, _) => { lock (captured) captured.Add(topic); } });
        Assert.Matches(@"^tcp://127\.0\.0\.1:\d+$", proxy.Endpoint);

        // Only cam1's results are wanted: the subscription travels through the proxy to both publishers, so nothing
        // else even leaves them.
        using (var filtered = new SubscriberSocket())
        {
            filtered.Connect(proxy.Endpoint);
            filtered.Subscribe(Topics.Results("cam1"));
            var got = PublishUntil(filtered, r => r.Count >= 5, (a, "cam0"), (b, "cam1"));
            Assert.True(got.Count >= 5, $"only {got.Count} messages through the proxy");
            Assert.All(got, m => Assert.Equal(Topics.Results("cam1"), m.Topic));
            Assert.Equal([Topics.Results("cam1")], proxy.ForwardedByTopic.Keys);
            Assert.True(proxy.SubscriptionsForwarded >= 1);
        }

        using var all = new SubscriberSocket();
        all.Connect(proxy.Endpoint);
        all.Subscribe(Topics.Prefix);
        var everything = PublishUntil(all, r =>
            r.Any(m => m.Topic == Topics.Results("cam0")) && r.Any(m => m.Topic == Topics.Results("cam1")) &&
            r.Where(m => m.Topic == Topics.Status).Select(m => NodeStatus.Parser.ParseFrom(m.Payload).NodeId).Distinct().Count() == 2, (a, "cam0"), (b, "cam1"));
        Assert.Contains(everything, m => m.Topic == Topics.Results("cam0") && InstructionResult.Parser.ParseFrom(m.Payload).Header.StreamId == "cam0");
        Assert.Contains(everything, m => m.Topic == Topics.Results("cam1"));
        Assert.Equal(["node-cam0", "node-cam1"], everything.Where(m => m.Topic == Topics.Status).Select(m => NodeStatus.Parser.ParseFrom(m.Payload).NodeId).Distinct().Order());
        Assert.True(proxy.MessagesForwarded >= everything.Count);
        Assert.True(proxy.BytesForwarded > 0);
        // Every forwarded message was captured (once what was in flight has landed).
        long settled;
        do
        {
            settled = proxy.MessagesForwarded;
            Thread.Sleep(300);
        }
        while (proxy.MessagesForwarded != settled);
        lock (captured) Assert.Equal(settled, captured.Count);
    }

    [Fact]
    public void ACurvePublisherIsReadThroughTheProxyOnlyWithItsKey()
    {
        var nodeKeys = new NetMQCertificate();
        using var node = new ResultPublisher("tcp://127.0.0.1:0", curveServer: nodeKeys);

        // Without the node's key the proxy's XSUB cannot complete the handshake: nothing comes through.
        using (var blind = new ResultProxy([node.Endpoint], "tcp://127.0.0.1:0"))
        using (var subscriber = new SubscriberSocket())
        {
            subscriber.Connect(blind.Endpoint);
            subscriber.Subscribe(Topics.Prefix);
            var deadline = DateTime.UtcNow.AddSeconds(1.5);
            var message = new NetMQMessage();
            bool any = false;
            while (DateTime.UtcNow < deadline && !any)
            {
                node.Publish(Topics.Status, new NodeStatus { NodeId = "secret" });
                any = subscriber.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(50), ref message);
            }
            Assert.False(any);
            Assert.Equal(0, blind.MessagesForwarded);
        }

        // With it, the proxy decrypts and serves plain (or encrypted again with its own key, below).
        var proxyKeys = new NetMQCertificate();
        using var proxy = new ResultProxy([node.Endpoint], "tcp://127.0.0.1:0",
            new ResultProxyOptions { NodeCurve = new CurveClientKeys(nodeKeys.PublicKeyZ85), CurveServer = proxyKeys });
        using var client = new SubscriberSocket();
        new CurveClientKeys(proxyKeys.PublicKeyZ85).Apply(client);
        client.Connect(proxy.Endpoint);
        client.Subscribe(Topics.Status);
        var got = PublishUntil(client, r => r.Count > 0, (node, "cam0"));
        Assert.NotEmpty(got);
        Assert.Equal("node-cam0", NodeStatus.Parser.ParseFrom(got[0].Payload).NodeId);
    }

    [Fact]
    public void DisposeStopsAtOnceAndFreesTheEndpoint()
    {
        using var node = new ResultPublisher("tcp://127.0.0.1:0");
        var proxy = new ResultProxy([node.Endpoint], "tcp://127.0.0.1:0");
        string endpoint = proxy.Endpoint;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        proxy.Dispose();
        proxy.Dispose(); // idempotent
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"stopping took {watch.Elapsed}");
        // The port is free again: a new proxy binds it.
        using var again = BindWithRetry(() => new ResultProxy([node.Endpoint], endpoint));
        Assert.Equal(endpoint, again.Endpoint);
    }

    [Fact]
    public void BadArgumentsAreNamed()
    {
        Assert.Contains("at least one", Assert.Throws<ArgumentException>(() => new ResultProxy([], "tcp://127.0.0.1:0")).Message);
        Assert.Contains("more than once", Assert.Throws<ArgumentException>(() => new ResultProxy(["tcp://127.0.0.1:1", "tcp://127.0.0.1:1"], "tcp://127.0.0.1:0")).Message);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        string busy = $"tcp://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        Assert.Contains(busy, Assert.Throws<IOException>(() => new ResultProxy(["tcp://127.0.0.1:1"], busy)).Message);
    }

    private static ResultProxy BindWithRetry(Func<ResultProxy> make)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            try
            {
                return make();
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
        }
    }
}
