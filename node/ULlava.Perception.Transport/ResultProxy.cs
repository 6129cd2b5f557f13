using System.Collections.Concurrent;
using System.Text;
using NetMQ;
using NetMQ.Sockets;

namespace ULlava.Perception.Transport;

/// <summary>
/// Scale-out: several nodes (one per GPU or camera group) behind one endpoint. An XSUB socket connects to every
/// node's publish endpoint, an XPUB socket binds the one endpoint subscribers use, and NetMQ's <see cref="Proxy"/>
/// forwards between them on the proxy's own thread: messages downstream, subscriptions upstream (so a
/// topic-filtered subscriber of the proxy makes the nodes filter too, and nodes that start or restart after the
/// proxy get the subscriptions when they connect).
/// <para/>
/// Topics carry the stream id, not the node id: give every stream a fleet-wide unique id (statuses carry the node id).
/// A subscriber that stops reading loses messages at its own high-water mark on the proxy's XPUB; the others and
/// the nodes are not slowed.
/// <para/>
/// CURVE: with <see cref="ResultProxyOptions.NodeCurve"/> the XSUB is a CURVE client of the nodes' publishers (one
/// server key for all of them: NetMQ applies socket options per socket, not per connection). The proxy decrypts;
/// what it serves is plain unless <see cref="ResultProxyOptions.CurveServer"/> makes the XPUB a CURVE server too.
/// Either way the proxy sees every message in clear, so it runs where the nodes are trusted.
/// </summary>
public sealed class ResultProxy : IDisposable
{
    private readonly XSubscriberSocket nodes;
    private readonly XPublisherSocket subscribers;
    private readonly PairSocket dataTapIn, dataTapOut, subscriptionTapIn, subscriptionTapOut;
    private readonly NetMQPoller poller;
    private readonly Proxy proxy;
    private readonly Action<string, byte[]>? capture;
    private readonly ConcurrentDictionary<string, long> byTopic = new(StringComparer.Ordinal);
    private readonly Lock stopGate = new();
    private bool stopped;
    private long messages;
    private long bytes;
    private long subscriptions;

    /// <param name="nodeEndpoints">The nodes' publish endpoints (their --pub), connected to, in order.</param>
    /// <param name="publishEndpoint">The endpoint subscribers connect to; port 0 binds a free port (see <see cref="Endpoint"/>).</param>
    public ResultProxy(IReadOnlyList<string> nodeEndpoints, string publishEndpoint, ResultProxyOptions? options = null)
    {
        options ??= new ResultProxyOptions();
        if (nodeEndpoints.Count == 0) throw new ArgumentException("the proxy needs at least one node endpoint", nameof(nodeEndpoints));
        var duplicate = nodeEndpoints.GroupBy(e => e, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"node endpoint {duplicate.Key} is given more than once", nameof(nodeEndpoints));
        if (options.CurveServer is { HasSecretKey: false }) throw new ArgumentException("the CURVE server certificate needs its secret key", nameof(options));
        capture = options.Capture;
        var made = new List<NetMQSocket>();
        T Make<T>(T socket) where T : NetMQSocket
        {
            made.Add(socket);
            socket.Options.Linger = TimeSpan.FromMilliseconds(200);
            return socket;
        }
        try
        {
            nodes = Make(new XSubscriberSocket());
            nodes.Options.ReceiveHighWatermark = options.HighWatermark;
            options.NodeCurve?.Apply(nodes);
            subscribers = Make(new XPublisherSocket());
            subscribers.Options.SendHighWatermark = options.HighWatermark;
            if (options.CurveServer is { } server)
            {
                subscribers.Options.CurveServer = true;
                subscribers.Options.CurveCertificate = server;
            }
            try
            {
                Endpoint = ResultPublisher.Bind(subscribers, publishEndpoint);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new IOException($"cannot bind the proxy to {publishEndpoint}: {e.Message}", e);
            }
            foreach (string endpoint in nodeEndpoints)
            {
                try
                {
                    nodes.Connect(endpoint);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    throw new ArgumentException($"cannot connect the proxy to node endpoint {endpoint}: {e.Message}", nameof(nodeEndpoints), e);
                }
            }
            NodeEndpoints = nodeEndpoints.ToList();

            // The taps: NetMQ's Proxy copies each message it forwards onto a control socket. PAIR over inproc, with
            // no high-water mark so a copy never blocks the proxy; the same thread drains them every poll.
            string tap = $"inproc://ullava-proxy-{Guid.NewGuid():N}";
            (dataTapIn, dataTapOut) = TapPair(Make(new PairSocket()), Make(new PairSocket()), tap + "-data");
            (subscriptionTapIn, subscriptionTapOut) = TapPair(Make(new PairSocket()), Make(new PairSocket()), tap + "-subscriptions");
            dataTapOut.ReceiveReady += (_, _) => DrainData();
            subscriptionTapOut.ReceiveReady += (_, _) => DrainSubscriptions();

            poller = new NetMQPoller { nodes, subscribers, dataTapOut, subscriptionTapOut };
            proxy = new Proxy(nodes, subscribers, dataTapIn, subscriptionTapIn, poller);
            proxy.Start(); // with an external poller: hooks the sockets up and returns
        }
        catch
        {
            foreach (var socket in made) socket.Dispose();
            throw;
        }
        // From here on only the poller's thread touches the sockets.
        poller.RunAsync("zmq-proxy", isBackgroundThread: true);
    }

    /// <summary>The endpoint subscribers connect to (with the real port).</summary>
    public string Endpoint { get; }

    public IReadOnlyList<string> NodeEndpoints { get; }

    /// <summary>Messages forwarded from the nodes to the subscribers (each [topic, payload] counts once).</summary>
    public long MessagesForwarded => Interlocked.Read(ref messages);

    /// <summary>Bytes of the messages forwarded (all frames).</summary>
    public long BytesForwarded => Interlocked.Read(ref bytes);

    /// <summary>Subscribe and unsubscribe messages forwarded upstream to the nodes.</summary>
    public long SubscriptionsForwarded => Interlocked.Read(ref subscriptions);

    /// <summary>Messages forwarded per topic so far.</summary>
    public IReadOnlyDictionary<string, long> ForwardedByTopic => new SortedDictionary<string, long>(byTopic, StringComparer.Ordinal);

    private static (PairSocket In, PairSocket Out) TapPair(PairSocket writer, PairSocket reader, string address)
    {
        writer.Options.SendHighWatermark = 0;
        reader.Options.ReceiveHighWatermark = 0;
        reader.Bind(address);
        writer.Connect(address);
        return (writer, reader);
    }

    private void DrainData()
    {
        var message = new NetMQMessage();
        while (dataTapOut.TryReceiveMultipartMessage(TimeSpan.Zero, ref message))
        {
            long size = 0;
            foreach (var frame in message) size += frame.BufferSize;
            string topic = message.FrameCount > 0 ? message[0].ConvertToString(Encoding.UTF8) : "";
            Interlocked.Increment(ref messages);
            Interlocked.Add(ref bytes, size);
            byTopic.AddOrUpdate(topic, 1, (_, n) => n + 1);
            if (capture is not null && message.FrameCount == 2) capture(topic, message[1].ToByteArray());
            message = new NetMQMessage();
        }
    }

    private void DrainSubscriptions()
    {
        var message = new NetMQMessage();
        while (subscriptionTapOut.TryReceiveMultipartMessage(TimeSpan.Zero, ref message))
        {
            Interlocked.Increment(ref subscriptions);
            message = new NetMQMessage();
        }
    }

    /// <summary>Stops forwarding and closes every socket (idempotent).</summary>
    public void Dispose()
    {
        lock (stopGate)
        {
            if (stopped) return;
            stopped = true;
        }
        poller.Stop(); // waits for the proxy thread to leave its loop
        proxy.Stop();
        poller.Dispose();
        foreach (var socket in new NetMQSocket[] { nodes, subscribers, dataTapIn, dataTapOut, subscriptionTapIn, subscriptionTapOut }) socket.Dispose();
    }
}

/// <summary>Settings of a <see cref="ResultProxy"/>.</summary>
public sealed record ResultProxyOptions
{
    /// <summary>High-water mark (messages) per connection on both sides: beyond it a slow peer loses messages, nobody waits.</summary>
    public int HighWatermark { get; init; } = 1000;

    /// <summary>The nodes' publisher key (and the proxy's client key pair) when their publishers are CURVE servers.</summary>
    public CurveClientKeys? NodeCurve { get; init; }

    /// <summary>Makes the proxy's own endpoint a CURVE server (subscribers then need its public key).</summary>
    public NetMQCertificate? CurveServer { get; init; }

    /// <summary>Called on the proxy's thread with each forwarded [topic, payload] (keep it quick; null: no capture).</summary>
    public Action<string, byte[]>? Capture { get; init; }
}
