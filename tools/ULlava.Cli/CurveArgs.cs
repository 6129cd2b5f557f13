using NetMQ;
using ULlava.Perception.Transport;

namespace ULlava.Cli;

/// <summary>CURVE options of the client tools (sub, cmd): the node's public key and, optionally, the client's key pair.</summary>
public static class CurveArgs
{
    public static CurveClientKeys? Read(ArgReader args)
    {
        string? server = args.Optional("--server-key");
        string? clientPublic = args.Optional("--client-key");
        string? clientSecret = args.Optional("--client-secret");
        if (server is null)
        {
            if (clientPublic is not null || clientSecret is not null) throw new UsageException("--client-key/--client-secret need --server-key");
            return null;
        }
        if ((clientPublic is null) != (clientSecret is null)) throw new UsageException("--client-key and --client-secret go together");
        NetMQCertificate? client = clientPublic is null ? null : CurveKeys.Read(clientPublic, clientSecret!);
        return new CurveClientKeys(CurveKeys.ReadPublicKey(server), client);
    }
}
