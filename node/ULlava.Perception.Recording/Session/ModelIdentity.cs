using System.Security.Cryptography;

namespace ULlava.Perception.Recording.Session;

/// <summary>Which model produced the recorded results: enough to tell two checkpoints apart when replaying.</summary>
public sealed record ModelIdentity(string Name, string CheckpointSha256, IReadOnlyDictionary<string, string>? Extra = null)
{
    public const string MetadataName = "ullava.model";

    public Dictionary<string, string> ToMetadata()
    {
        var values = new Dictionary<string, string>(Extra ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            ["name"] = Name,
            ["checkpoint_sha256"] = CheckpointSha256,
        };
        return values;
    }

    /// <summary>SHA-256 over the files in ordinal path order, each preceded by its file name, streamed (checkpoints are GBs).</summary>
    public static string HashCheckpoint(IEnumerable<string> files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        foreach (var file in files.OrderBy(f => f, StringComparer.Ordinal))
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(System.IO.Path.GetFileName(file) + "\n"));
            using var stream = File.OpenRead(file);
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
