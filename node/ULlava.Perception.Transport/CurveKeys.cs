using NetMQ;

namespace ULlava.Perception.Transport;

/// <summary>
/// CURVE key files in ZeroMQ's Z85 text form (40 characters, as zmq_z85_encode and NetMQCertificate write them):
/// a public key file and a secret key file, the secret one readable by its owner only. Secret keys are never
/// printed or put in exception messages.
/// </summary>
public static class CurveKeys
{
    /// <summary>Creates a key pair and writes it; refuses to overwrite an existing secret key.</summary>
    public static NetMQCertificate Generate(string publicKeyPath, string secretKeyPath)
    {
        if (File.Exists(secretKeyPath)) throw new IOException($"{secretKeyPath} exists; remove it first to make a new key pair");
        var certificate = new NetMQCertificate();
        Write(certificate, publicKeyPath, secretKeyPath);
        return certificate;
    }

    public static void Write(NetMQCertificate certificate, string publicKeyPath, string secretKeyPath)
    {
        if (certificate.SecretKeyZ85 is not { } secret) throw new ArgumentException("the certificate has no secret key", nameof(certificate));
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        // The secret file is created 0600, never widened after the fact.
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var writer = new StreamWriter(secretKeyPath, options)) writer.Write(secret + "\n");
        File.WriteAllText(publicKeyPath, certificate.PublicKeyZ85 + "\n");
    }

    /// <summary>The key pair from its two files; checks that the public key matches the secret one.</summary>
    public static NetMQCertificate Read(string publicKeyPath, string secretKeyPath)
    {
        var certificate = NetMQCertificate.CreateFromSecretKey(ReadKey(secretKeyPath, "secret"));
        string expected = ReadPublicKey(publicKeyPath);
        if (certificate.PublicKeyZ85 != expected) throw new InvalidDataException($"{publicKeyPath} is not the public key of {secretKeyPath}");
        return certificate;
    }

    /// <summary>A Z85 public key from its file (the first key line).</summary>
    public static string ReadPublicKey(string path) => ReadKey(path, "public");

    /// <summary>
    /// An allow-list: a folder (every key in every file directly in it) or a file, each with Z85 public keys one
    /// per line; blank lines and lines starting with '#' are skipped.
    /// </summary>
    public static IReadOnlySet<string> ReadAllowList(string path)
    {
        IEnumerable<string> files = Directory.Exists(path)
            ? Directory.EnumerateFiles(path).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal)
            : File.Exists(path) ? [path] : throw new FileNotFoundException($"no allow-list file or folder at {path}", path);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (string file in files)
            foreach (var (line, number) in KeyLines(file)) keys.Add(CheckPublic(line, $"{file}:{number}"));
        return keys;
    }

    private static string ReadKey(string path, string what)
    {
        var lines = KeyLines(path).ToList();
        if (lines.Count != 1) throw new InvalidDataException($"{path}: expected one Z85 {what} key line, found {lines.Count}");
        return what == "public" ? CheckPublic(lines[0].Line, path) : CheckSecret(lines[0].Line, path);
    }

    private static IEnumerable<(string Line, int Number)> KeyLines(string path) =>
        File.ReadAllLines(path).Select((l, i) => (l.Trim(), i + 1)).Where(l => l.Item1.Length > 0 && !l.Item1.StartsWith('#'));

    private static string CheckPublic(string key, string where)
    {
        try
        {
            return NetMQCertificate.FromPublicKey(key).PublicKeyZ85;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or IndexOutOfRangeException)
        {
            throw new InvalidDataException($"{where}: not a 40-character Z85 public key");
        }
    }

    private static string CheckSecret(string key, string where)
    {
        // The message names the file, never the key.
        if (key.Length != 40) throw new InvalidDataException($"{where}: not a 40-character Z85 secret key");
        return key;
    }
}
