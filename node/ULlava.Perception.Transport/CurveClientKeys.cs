using NetMQ;

namespace ULlava.Perception.Transport;

/// <summary>What a client needs to talk to a CURVE node: the server's public key and its own key pair.</summary>
public sealed class CurveClientKeys
{
    /// <param name="clientCertificate">The client's key pair; null: a fresh one (fine when the server has no allow-list).</param>
    public CurveClientKeys(string serverPublicKeyZ85, NetMQCertificate? clientCertificate = null)
    {
        ServerPublicKey = NetMQCertificate.FromPublicKey(serverPublicKeyZ85).PublicKey;
        ClientCertificate = clientCertificate ?? new NetMQCertificate();
        if (!ClientCertificate.HasSecretKey) throw new ArgumentException("the client certificate needs its secret key", nameof(clientCertificate));
    }

    public byte[] ServerPublicKey { get; }

    public NetMQCertificate ClientCertificate { get; }

    /// <summary>Makes the socket a CURVE client; call before Connect.</summary>
    public void Apply(NetMQSocket socket)
    {
        socket.Options.CurveServerKey = ServerPublicKey;
        socket.Options.CurveCertificate = ClientCertificate;
    }
}
