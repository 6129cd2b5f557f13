using ULlava.Perception.Transport;

namespace ULlava.Cli.Commands;

/// <summary>`ullava keygen --public FILE --secret FILE`: a CURVE key pair (Z85 text files; the secret one readable by its owner only).</summary>
public static class KeygenCommand
{
    public const string Usage = "keygen --public FILE --secret FILE";

    public static int Run(ArgReader args)
    {
        string publicPath = args.Required("--public");
        string secretPath = args.Required("--secret");
        args.EnsureAllUsed();
        var certificate = CurveKeys.Generate(publicPath, secretPath);
        Console.WriteLine($"public key {certificate.PublicKeyZ85} written to {publicPath}; secret key written to {secretPath} (mode 0600)");
        return 0;
    }
}
