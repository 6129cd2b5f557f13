using Google.Protobuf;
using NetMQ;
using NetMQ.Sockets;
using ULlava.Perception.Messages.V1;
using ErrorCode = ULlava.Perception.Messages.V1.ErrorCode;

namespace ULlava.Perception.Transport;

/// <summary>
/// The ROUTER socket of the command channel. Its own thread owns the socket and runs a poller; each well-formed
/// <see cref="Command"/> goes to the <see cref="ICommandHandler"/> on that thread, and replies completed on other
/// threads come back through a <see cref="NetMQQueue{T}"/>, so the socket is only ever touched by its thread.
/// Bad input never reaches the handler and never stops the server: it is answered with ERROR_CODE_MALFORMED.
/// Clients may be DEALER (frames [payload]) or REQ (frames [empty, payload]); the reply mirrors the envelope.
/// </summary>
public sealed class CommandServer : IDisposable
{
    public const string DefaultEndpoint = "tcp://127.0.0.1:5557";

    private readonly ICommandHandler handler;
    private readonly int maxInFlight;
    private readonly CommandSecurity? security;
    private readonly RouterSocket socket;
    private readonly NetMQQueue<NetMQMessage> replies;
    private readonly NetMQPoller poller;
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock queueLock = new();
    private bool disposed;
    private int inFlight;
    private long received;
    private long refused;

    /// <param name="endpoint">e.g. tcp://127.0.0.1:5557; port 0 binds a free port (see <see cref="Endpoint"/>).</param>
    /// <param name="maxInFlight">Commands handed to the handler and not yet answered; beyond it, a "busy" reply.</param>
    /// <param name="security">CURVE server keys and the client allow-list; null: plain text, anyone may connect.</param>
    public CommandServer(ICommandHandler handler, string endpoint = DefaultEndpoint, int maxInFlight = 16, CommandSecurity? security = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInFlight, 1);
        this.handler = handler;
        this.maxInFlight = maxInFlight;
        this.security = security;
        socket = new RouterSocket();
        try
        {
            socket.Options.Linger = TimeSpan.FromMilliseconds(200);
            if (security is not null)
            {
                socket.Options.CurveServer = true;
                socket.Options.CurveCertificate = security.ServerCertificate;
            }
            Endpoint = ResultPublisher.Bind(socket, endpoint);
        }
        catch (Exception e)
        {
            socket.Dispose();
            throw new IOException($"cannot bind the command server to {endpoint}: {e.Message}", e);
        }
        replies = new NetMQQueue<NetMQMessage>();
        socket.ReceiveReady += (_, _) => OnRequests();
        replies.ReceiveReady += (_, e) =>
        {
            // A reply to a client that has gone away is dropped by ROUTER; never block the thread on it.
            while (e.Queue.TryDequeue(out var reply, TimeSpan.Zero)) socket.TrySendMultipartMessage(TimeSpan.Zero, reply);
        };
        poller = new NetMQPoller { socket, replies };
        // The poller's thread is from here on the only one that touches the socket.
        poller.RunAsync("zmq-commands", isBackgroundThread: true);
    }

    /// <summary>The endpoint actually bound (with the real port).</summary>
    public string Endpoint { get; }

    /// <summary>Requests received, well-formed or not.</summary>
    public long Received => Interlocked.Read(ref received);

    /// <summary>Requests dropped without a reply because the client's key is not allowed (see <see cref="CommandSecurity"/>).</summary>
    public long Refused => Interlocked.Read(ref refused);

    private void OnRequests()
    {
        var request = new NetMQMessage();
        while (socket.TryReceiveMultipartMessage(TimeSpan.Zero, ref request))
        {
            Interlocked.Increment(ref received);
            Handle(request);
            request = new NetMQMessage();
        }
    }

    private void Handle(NetMQMessage request)
    {
        // ROUTER prepends the peer's identity; REQ adds an empty delimiter before its frames.
        var envelope = new List<NetMQFrame> { request[0] };
        int next = 1;
        if (request.FrameCount > 2 && request[1].BufferSize == 0)
        {
            envelope.Add(NetMQFrame.Empty);
            next = 2;
        }
        var body = new List<byte[]>();
        for (int i = next; i < request.FrameCount; i++) body.Add(request[i].ToByteArray());

        if (security?.AllowedClientKeys is { } allowed)
        {
            // NetMQ's CURVE has no ZAP: the client proves its key per request (see ClientProof); a missing, forged or
            // unlisted proof gets no reply at all, as a ZAP denial would.
            if (body.Count != 2 || !ClientProof.TryVerify(body[0], security.ServerCertificate, body[1], out string clientKey) || !allowed.Contains(clientKey))
            {
                Interlocked.Increment(ref refused);
                return;
            }
        }
        else if (body.Count == 2 && security is not null)
        {
            // No allow-list: a proof is optional, but one that is sent must be sound.
            if (!ClientProof.TryVerify(body[0], security.ServerCertificate, body[1], out _))
            {
                Send(envelope, Malformed("", "the client proof frame does not verify against this server's key"));
                return;
            }
        }
        else if (body.Count != 1)
        {
            Send(envelope, Malformed("", $"expected one Command frame after the envelope, got {body.Count} frames"));
            return;
        }
        byte[] payload = body[^1];

        Command command;
        try
        {
            command = Command.Parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            Send(envelope, Malformed("", $"the payload ({payload.Length} bytes) is not a Command protobuf: {e.Message}"));
            return;
        }
        if (command.BodyCase == Command.BodyOneofCase.None)
        {
            Send(envelope, Malformed(command.RequestId, "the Command has no body: set one of its oneof fields (add_instruction, get_status, ...)"));
            return;
        }
        if (Volatile.Read(ref inFlight) >= maxInFlight)
        {
            Send(envelope, Failure(command.RequestId, ErrorCode.Unavailable, $"busy: {maxInFlight} commands are already being handled, retry later"));
            return;
        }

        Interlocked.Increment(ref inFlight);
        Task<Reply> handling;
        // The poller installs its own SynchronizationContext; without this a handler's awaits would resume on the
        // socket thread (and fail once the poller is disposed).
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            handling = handler.HandleAsync(command, stopping.Token);
        }
        catch (Exception e)
        {
            handling = Task.FromException<Reply>(e);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
        handling.ContinueWith(t =>
        {
            Interlocked.Decrement(ref inFlight);
            Reply reply;
            if (t.IsCompletedSuccessfully && t.Result is { } result)
            {
                reply = result;
                reply.RequestId = command.RequestId;
            }
            else if (t.IsCanceled) reply = Failure(command.RequestId, ErrorCode.Unavailable, "the command was cancelled: the server is stopping");
            else
            {
                string why = t.Exception?.GetBaseException().Message ?? "the handler returned no reply";
                reply = Failure(command.RequestId, ErrorCode.Internal, $"{command.BodyCase} failed: {why}");
            }
            Send(envelope, reply);
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static Reply Malformed(string requestId, string message) => Failure(requestId, ErrorCode.Malformed, message);

    private static Reply Failure(string requestId, ErrorCode code, string message) =>
        new() { RequestId = requestId, Ok = false, Error = new Error { Code = code, Message = message } };

    private static NetMQMessage Frame(List<NetMQFrame> envelope, Reply reply)
    {
        var message = new NetMQMessage(envelope.Count + 1);
        foreach (var frame in envelope) message.Append(frame);
        message.Append(reply.ToByteArray());
        return message;
    }

    // From the socket thread or a handler's; after Dispose the reply has nowhere to go.
    private void Send(List<NetMQFrame> envelope, Reply reply)
    {
        lock (queueLock)
        {
            if (!disposed) replies.Enqueue(Frame(envelope, reply));
        }
    }

    public void Dispose()
    {
        lock (queueLock)
        {
            if (disposed) return;
            disposed = true;
        }
        stopping.Cancel();
        poller.Stop();
        poller.Dispose();
        replies.Dispose();
        socket.Dispose();
    }
}
