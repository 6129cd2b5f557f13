using System.Collections.Concurrent;
using Google.Protobuf;
using NetMQ;
using NetMQ.Sockets;

namespace ULlava.Perception.Transport;

/// <summary>
/// The PUB socket. Its own thread owns the socket; other threads hand it [topic, protobuf] pairs through a
/// bounded queue. Nothing here ever blocks the pipeline: a subscriber that stops reading fills its high-water
/// mark and ZeroMQ discards further messages for it alone; a full queue or a refused send is counted as dropped.
/// </summary>
public sealed class ResultPublisher : IDisposable
{
    private readonly BlockingCollection<(string Topic, byte[] Payload)> queue;
    private readonly Thread thread;
    private readonly TaskCompletionSource<string> bound = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long published;
    private long dropped;

    /// <param name="endpoint">e.g. tcp://127.0.0.1:5556; port 0 binds a free port (see <see cref="Endpoint"/>).</param>
    /// <param name="curveServer">The node's key pair: the socket becomes a CURVE server and only subscribers that
    /// know its public key can connect (encrypted; NetMQ has no ZAP, so subscribers are not restricted by key).</param>
    public ResultPublisher(string endpoint, int sendHighWatermark = 100, int queueCapacity = 1000, NetMQCertificate? curveServer = null)
    {
        if (curveServer is { HasSecretKey: false }) throw new ArgumentException("the CURVE server certificate needs its secret key", nameof(curveServer));
        queue = new BlockingCollection<(string, byte[])>(queueCapacity);
        thread = new Thread(() => Run(endpoint, sendHighWatermark, curveServer)) { IsBackground = true, Name = "zmq-pub" };
        thread.Start();
        Endpoint = bound.Task.GetAwaiter().GetResult();
    }

    /// <summary>The endpoint actually bound (with the real port).</summary>
    public string Endpoint { get; }

    public long Published => Interlocked.Read(ref published);

    /// <summary>
    /// Messages never handed to ZeroMQ: the queue was full or the socket refused the send. A subscriber that stops
    /// reading loses messages at its own high-water mark inside ZeroMQ's PUB, which drops them silently (the send
    /// succeeds for the others), so those are not counted here (the slow-subscriber node test shows both).
    /// </summary>
    public long Dropped => Interlocked.Read(ref dropped);

    /// <summary>Queues a message; never blocks or throws (a full queue, or a publisher already disposed, drops and counts it).</summary>
    public void Publish(string topic, IMessage message)
    {
        try
        {
            if (queue.TryAdd((topic, message.ToByteArray()))) return;
        }
        catch (InvalidOperationException)
        {
            // completed or disposed under a late caller (a frame left in the model at a stop): dropped, like a full queue
        }
        Interlocked.Increment(ref dropped);
    }

    private void Run(string endpoint, int sendHighWatermark, NetMQCertificate? curveServer)
    {
        PublisherSocket socket;
        try
        {
            socket = new PublisherSocket();
            socket.Options.SendHighWatermark = sendHighWatermark;
            socket.Options.Linger = TimeSpan.FromMilliseconds(200);
            if (curveServer is not null)
            {
                socket.Options.CurveServer = true;
                socket.Options.CurveCertificate = curveServer;
            }
            bound.SetResult(Bind(socket, endpoint));
        }
        catch (Exception e)
        {
            bound.TrySetException(new IOException($"cannot bind the publisher to {endpoint}: {e.Message}", e));
            return;
        }
        using (socket)
        {
            foreach (var (topic, payload) in queue.GetConsumingEnumerable())
            {
                var msg = new NetMQMessage(2);
                msg.Append(topic);
                msg.Append(payload);
                if (socket.TrySendMultipartMessage(TimeSpan.Zero, msg)) Interlocked.Increment(ref published);
                else Interlocked.Increment(ref dropped);
            }
        }
    }

    /// <summary>Binds, resolving port 0 to a free port.</summary>
    internal static string Bind(NetMQSocket socket, string endpoint)
    {
        if (endpoint.StartsWith("tcp://", StringComparison.Ordinal) && endpoint.EndsWith(":0", StringComparison.Ordinal))
        {
            string host = endpoint[..^2];
            int port = socket.BindRandomPort(host);
            return $"{host}:{port}";
        }
        socket.Bind(endpoint);
        return endpoint;
    }

    public void Dispose()
    {
        queue.CompleteAdding();
        thread.Join(TimeSpan.FromSeconds(2));
        queue.Dispose();
    }
}
