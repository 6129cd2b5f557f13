using System.Security.Cryptography;
using NaCl;
using NetMQ;

namespace ULlava.Perception.Transport;

/// <summary>
/// Proof that a request comes from the holder of a client key, sent as the frame before the Command. NetMQ's
/// CURVE server checks that the client holds the secret of the key it presents but has no ZAP, so it never tells
/// the application which key that was; this frame does: the client's public key, a random nonce and a
/// crypto_box (the CURVE primitive, client secret + server public) of the payload's SHA-256. Only the server's
/// secret key opens it, and only the client's secret key can have made it.
/// </summary>
public static class ClientProof
{
    private const int KeyLength = 32;
    private const int NonceLength = 24;
    private const int HashLength = 32;

    /// <summary>Bytes of a proof frame.</summary>
    public const int Length = KeyLength + NonceLength + HashLength + Curve25519XSalsa20Poly1305.TagLength;

    public static byte[] Create(NetMQCertificate client, byte[] serverPublicKey, ReadOnlySpan<byte> payload)
    {
        if (client.SecretKey is not { } secret) throw new ArgumentException("the client certificate needs its secret key", nameof(client));
        var proof = new byte[Length];
        client.PublicKey.CopyTo(proof, 0);
        var nonce = proof.AsSpan(KeyLength, NonceLength);
        RandomNumberGenerator.Fill(nonce);
        Span<byte> hash = stackalloc byte[HashLength];
        SHA256.HashData(payload, hash);
        using var box = new Curve25519XSalsa20Poly1305(secret, serverPublicKey);
        box.Encrypt(proof.AsSpan(KeyLength + NonceLength), hash, nonce);
        return proof;
    }

    /// <summary>True when the proof opens with the server's secret key and covers this payload.</summary>
    public static bool TryVerify(ReadOnlySpan<byte> proof, NetMQCertificate server, ReadOnlySpan<byte> payload, out string clientKeyZ85)
    {
        clientKeyZ85 = "";
        if (proof.Length != Length || server.SecretKey is not { } secret) return false;
        byte[] clientKey = proof[..KeyLength].ToArray();
        Span<byte> hash = stackalloc byte[HashLength];
        using var box = new Curve25519XSalsa20Poly1305(secret, clientKey);
        if (!box.TryDecrypt(hash, proof[(KeyLength + NonceLength)..], proof.Slice(KeyLength, NonceLength))) return false;
        Span<byte> expected = stackalloc byte[HashLength];
        SHA256.HashData(payload, expected);
        if (!CryptographicOperations.FixedTimeEquals(hash, expected)) return false;
        clientKeyZ85 = NetMQCertificate.FromPublicKey(clientKey).PublicKeyZ85;
        return true;
    }
}
