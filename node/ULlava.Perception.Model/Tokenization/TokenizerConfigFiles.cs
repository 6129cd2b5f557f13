using System.Globalization;
using System.Text.Json;

namespace ULlava.Perception.Model.Tokenization;

/// <summary>
/// What the slow-tokenizer side files of a checkpoint say: special_tokens_map.json, tokenizer_config.json,
/// added_tokens.json. Each is optional; absent values stay null.
/// </summary>
internal sealed class TokenizerConfigFiles
{
    public string? Bos { get; private set; }
    public string? Eos { get; private set; }
    public string? Unk { get; private set; }
    public string? Pad { get; private set; }

    /// <summary>tokenizer_config.json "legacy": true means every chunk gets the dummy prefix.</summary>
    public bool? Legacy { get; private set; }

    /// <summary>added_tokens.json and tokenizer_config.json added_tokens_decoder, by content.</summary>
    public Dictionary<string, AddedToken> Added { get; } = new(StringComparer.Ordinal);

    public static TokenizerConfigFiles Read(string folder)
    {
        var files = new TokenizerConfigFiles();
        var config = Path.Combine(folder, "tokenizer_config.json");
        if (File.Exists(config))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(config));
            var root = doc.RootElement;
            files.ReadSpecialNames(root);
            if (root.TryGetProperty("legacy", out var legacy) && legacy.ValueKind is JsonValueKind.True or JsonValueKind.False)
                files.Legacy = legacy.GetBoolean();
            if (root.TryGetProperty("added_tokens_decoder", out var decoder) && decoder.ValueKind == JsonValueKind.Object)
            {
                foreach (var entry in decoder.EnumerateObject())
                {
                    var id = int.Parse(entry.Name, CultureInfo.InvariantCulture);
                    var token = ReadAddedToken(entry.Value, id);
                    files.Added[token.Content] = token;
                }
            }
        }

        // special_tokens_map.json wins over tokenizer_config.json, as in transformers.
        var map = Path.Combine(folder, "special_tokens_map.json");
        if (File.Exists(map))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(map));
            files.ReadSpecialNames(doc.RootElement);
        }

        var added = Path.Combine(folder, "added_tokens.json");
        if (File.Exists(added))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(added));
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                // added_tokens.json carries no flags; u-LLaVA registers its tokens as special (they are skipped on decode).
                if (!files.Added.ContainsKey(entry.Name))
                    files.Added[entry.Name] = new AddedToken(entry.Name, entry.Value.GetInt32());
            }
        }

        return files;
    }

    /// <summary>An entry of tokenizer.json "added_tokens" or tokenizer_config.json "added_tokens_decoder".</summary>
    public static AddedToken ReadAddedToken(JsonElement e, int id) => new(
        e.GetProperty("content").GetString() ?? throw new InvalidDataException("added token without content"),
        id,
        Special: !e.TryGetProperty("special", out var s) || s.ValueKind != JsonValueKind.False,
        LStrip: e.TryGetProperty("lstrip", out var l) && l.ValueKind == JsonValueKind.True,
        RStrip: e.TryGetProperty("rstrip", out var r) && r.ValueKind == JsonValueKind.True);

    private void ReadSpecialNames(JsonElement root)
    {
        Bos = TokenName(root, "bos_token") ?? Bos;
        Eos = TokenName(root, "eos_token") ?? Eos;
        Unk = TokenName(root, "unk_token") ?? Unk;
        Pad = TokenName(root, "pad_token") ?? Pad;
    }

    // A special token is written either as a string or as an AddedToken object {"content": ...}.
    private static string? TokenName(JsonElement root, string key)
    {
        if (!root.TryGetProperty(key, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Object when v.TryGetProperty("content", out var c) => c.GetString(),
            _ => null,
        };
    }
}
