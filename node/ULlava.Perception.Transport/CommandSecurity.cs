using NetMQ;

namespace ULlava.Perception.Transport;

/// <summary>
/// CURVE on the command socket: the node's key pair and, optionally, the clients allowed to send commands.
/// With <see cref="AllowedClientKeys"/> null every client that knows the server's public key may send commands
/// (encrypted, not authenticated); otherwise each request must carry a <see cref="ClientProof"/> for a listed key.
/// </summary>
public sealed class CommandSecurity
{
    public CommandSecurity(NetMQCertificate serverCertificate, IReadOnlySet<string>? allowedClientKeys = null)
    {
        if (!serverCertificate.HasSecretKey) throw new ArgumentException("the server certificate needs its secret key", nameof(serverCertificate));
        ServerCertificate = serverCertificate;
        AllowedClientKeys = allowedClientKeys;
    }

    public NetMQCertificate ServerCertificate { get; }

    /// <summary>Z85 public keys of the clients allowed to send commands; null: any client.</summary>
    public IReadOnlySet<string>? AllowedClientKeys { get; }
}
