using System.Reflection;

namespace ULlava.Training.Training;

/// <summary>The tokenizer files embedded in this assembly (the reference fixture's SentencePiece vocabulary).</summary>
public static class TokenizerFiles
{
    public static IReadOnlyList<string> Names { get; } =
        ["tokenizer.model", "tokenizer.json", "tokenizer_config.json", "added_tokens.json", "special_tokens_map.json"];

    /// <summary>Writes every tokenizer file into <paramref name="dir"/>.</summary>
    public static void WriteTo(string dir)
    {
        Directory.CreateDirectory(dir);
        var assembly = typeof(TokenizerFiles).Assembly;
        foreach (var name in Names)
        {
            using var stream = assembly.GetManifestResourceStream("tokenizer/" + name)
                               ?? throw new InvalidOperationException($"embedded tokenizer file {name} is missing from {assembly.GetName().Name}");
            using var file = File.Create(Path.Combine(dir, name));
            stream.CopyTo(file);
        }
    }

    /// <summary>A tokenizer read from the embedded files (through a temporary folder, as the tokenizer reads folders).</summary>
    public static Perception.Model.Tokenization.ULlavaTokenizer Load()
    {
        string dir = Path.Combine(Path.GetTempPath(), "ullava-training-tokenizer-" + Guid.NewGuid().ToString("N"));
        try
        {
            WriteTo(dir);
            return Perception.Model.Tokenization.ULlavaTokenizer.FromFolder(dir);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
