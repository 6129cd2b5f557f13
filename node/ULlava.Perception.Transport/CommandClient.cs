using Google.Protobuf;
using NetMQ;
using NetMQ.Sockets;
using ULlava.Perception.Messages.V1;

namespace ULlava.Perception.Transport;

/// <summary>
/// A DEALER client of the <see cref="CommandServer"/>: one command at a time, answered or timed out. Replies
/// are matched by request_id, so a late reply to an earlier, timed-out command is skipped. Not thread-safe.
/// </summary>
public sealed class CommandClient : IDisposable
{
    private readonly DealerSocket socket = new();
    private readonly CurveClientKeys? curve;

    /// <param name="curve">For a CURVE node; each request then carries a <see cref="ClientProof"/> of the client key.</param>
    public CommandClient(string endpoint, CurveClientKeys? curve = null)
    {
        this.curve = curve;
        socket.Options.Linger = TimeSpan.Zero;
        curve?.Apply(socket);
        socket.Connect(endpoint);
    }

    /// <summary>Sends the command (a request_id is made up when it has none) and waits for its reply.</summary>
    /// <exception cref="TimeoutException">No reply within the timeout (also what a refused client key sees).</exception>
    public Reply Send(Command command, TimeSpan timeout)
    {
        if (command.RequestId.Length == 0) command.RequestId = Guid.NewGuid().ToString("N")[..12];
        byte[] payload = command.ToByteArray();
        var request = new NetMQMessage(2);
        if (curve is not null) request.Append(ClientProof.Create(curve.ClientCertificate, curve.ServerPublicKey, payload));
        request.Append(payload);
        var deadline = DateTime.UtcNow + timeout;
        if (!socket.TrySendMultipartMessage(timeout, request)) throw new TimeoutException($"could not send {command.BodyCase} within {timeout.TotalSeconds:0.###} s");
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            var response = new NetMQMessage();
            if (left <= TimeSpan.Zero || !socket.TryReceiveMultipartMessage(left, ref response))
                throw new TimeoutException($"no reply to {command.BodyCase} (request {command.RequestId}) within {timeout.TotalSeconds:0.###} s");
            Reply reply;
            try
            {
                reply = Reply.Parser.ParseFrom(response.Last.ToByteArray());
            }
            catch (InvalidProtocolBufferException)
            {
                continue;
            }
            // An empty request_id: the server could not read the command at all, so it is about this one.
            if (reply.RequestId == command.RequestId || reply.RequestId.Length == 0) return reply;
        }
    }

    public void Dispose() => socket.Dispose();
}
