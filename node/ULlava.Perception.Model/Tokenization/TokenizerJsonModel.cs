using System.Text.Json;
using System.Text.RegularExpressions;

namespace ULlava.Perception.Model.Tokenization;

/// <summary>
/// A Hugging Face fast-tokenizer file (tokenizer.json) turned into what <see cref="ULlavaTokenizer"/> runs:
/// a SentencePiece BPE model for the library (from vocab + merges),
/// the added tokens, and the dummy-prefix rule its Metaspace pre-tokenizer or Prepend normalizer states.
/// </summary>
internal sealed partial class TokenizerJsonModel
{
    public required byte[] SentencePieceModel { get; init; }
    public required IReadOnlyList<AddedToken> Added { get; init; }
    public required DummyPrefixScheme Prefix { get; init; }
    public string? Bos { get; init; }
    public string? Unk { get; init; }
    public string? Pad { get; init; }

    [GeneratedRegex("^<0x[0-9A-Fa-f]{2}>$")]
    private static partial Regex BytePiece();

    public static TokenizerJsonModel Read(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        var model = root.GetProperty("model");
        var type = model.TryGetProperty("type", out var t) ? t.GetString() : null;

        var added = new List<AddedToken>();
        if (root.TryGetProperty("added_tokens", out var addedJson) && addedJson.ValueKind == JsonValueKind.Array)
            foreach (var e in addedJson.EnumerateArray())
                added.Add(TokenizerConfigFiles.ReadAddedToken(e, e.GetProperty("id").GetInt32()));

        var byteFallback = model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True;
        // LLaMA's SentencePiece model is BPE. Unigram is left out on purpose: Microsoft.ML.Tokenizers 2.0.1 maps
        // byte-fallback bytes to wrong ids in its Unigram model (it offsets them from the last byte piece).
        if (type != "BPE" && !(type is null && model.TryGetProperty("merges", out _)))
            throw new NotSupportedException($"{path}: model type '{type}' is not supported (expected a BPE model with vocab and merges)");

        var pieces = BpePieces(model, path);
        var unk = model.TryGetProperty("unk_token", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;

        var bos = BosFromPostProcessor(root);
        var index = pieces.Select((p, i) => (p.Piece, i)).ToDictionary(x => x.Piece, x => x.i, StringComparer.Ordinal);
        unk ??= index.ContainsKey("<unk>") ? "<unk>" : null;
        int Id(string? piece) => piece is not null && index.TryGetValue(piece, out var id) ? id : -1;
        var unkId = Id(unk);
        var bosId = Id(bos ?? "<s>");
        var eosId = Id("</s>");

        // Special added tokens that live inside the base vocabulary (<s>, </s>) are control pieces.
        var control = added.Where(a => a.Special && a.Id < pieces.Count).Select(a => a.Id).ToHashSet();
        var proto = pieces.Select((p, i) => new SentencePieceModelProto.Piece(
            p.Piece,
            p.Score,
            i == unkId ? SentencePieceModelProto.PieceType.Unknown
            : control.Contains(i) || i == bosId || i == eosId ? SentencePieceModelProto.PieceType.Control
            : byteFallback && BytePiece().IsMatch(p.Piece) ? SentencePieceModelProto.PieceType.Byte
            : SentencePieceModelProto.PieceType.Normal)).ToList();

        string? pad = null;
        if (root.TryGetProperty("padding", out var padding) && padding.ValueKind == JsonValueKind.Object &&
            padding.TryGetProperty("pad_token", out var pt))
            pad = pt.GetString();

        return new TokenizerJsonModel
        {
            SentencePieceModel = SentencePieceModelProto.Write(proto, SentencePieceModelProto.ModelType.Bpe, byteFallback, unkId, bosId, eosId),
            Added = added,
            Prefix = PrefixScheme(root),
            Bos = bos,
            Unk = unk,
            Pad = pad,
        };
    }

    // BPE: pieces in id order; a merged piece scores -(rank of the first merge producing it), so the library's
    // "highest score merges first" follows the merge ranks of tokenizer.json.
    private static List<(string Piece, float Score)> BpePieces(JsonElement model, string path)
    {
        var vocab = model.GetProperty("vocab").EnumerateObject().Select(p => (p.Name, Id: p.Value.GetInt32())).OrderBy(p => p.Id).ToList();
        for (var i = 0; i < vocab.Count; i++)
            if (vocab[i].Id != i) throw new InvalidDataException($"{path}: model.vocab ids are not 0..{vocab.Count - 1} (missing {i})");

        var rank = new Dictionary<string, int>(StringComparer.Ordinal);
        var r = 0;
        foreach (var m in model.GetProperty("merges").EnumerateArray())
        {
            // Two spellings: "a b" (tokenizers < 0.20) or ["a", "b"].
            string merged;
            if (m.ValueKind == JsonValueKind.String)
            {
                var s = m.GetString() ?? "";
                var space = s.IndexOf(' ', StringComparison.Ordinal);
                if (space < 0) throw new InvalidDataException($"{path}: merge '{s}' is not 'left right'");
                merged = string.Concat(s.AsSpan(0, space), s.AsSpan(space + 1));
            }
            else
            {
                merged = (m[0].GetString() ?? "") + (m[1].GetString() ?? "");
            }
            rank.TryAdd(merged, r++);
        }

        // Pieces no merge produces: single characters (their score is never consulted) and, rarely, longer pieces,
        // which go after every merge.
        return vocab.Select(v => (v.Name, rank.TryGetValue(v.Name, out var k) ? -(float)k : -(float)(r + v.Id))).ToList();
    }

    private static string? BosFromPostProcessor(JsonElement root)
    {
        if (!root.TryGetProperty("post_processor", out var pp) || pp.ValueKind != JsonValueKind.Object) return null;
        if (!pp.TryGetProperty("single", out var single) || single.ValueKind != JsonValueKind.Array) return null;
        var first = single.EnumerateArray().FirstOrDefault();
        return first.ValueKind == JsonValueKind.Object && first.TryGetProperty("SpecialToken", out var st) ? st.GetProperty("id").GetString() : null;
    }

    private static DummyPrefixScheme PrefixScheme(JsonElement root)
    {
        if (root.TryGetProperty("normalizer", out var n) && Flatten(n, "normalizers").Any(x =>
                x.TryGetProperty("type", out var t) && t.GetString() == "Prepend" &&
                x.TryGetProperty("prepend", out var p) && p.GetString() == "\u2581"))
            return DummyPrefixScheme.AlwaysUnconditional;

        if (root.TryGetProperty("pre_tokenizer", out var pre))
        {
            foreach (var x in Flatten(pre, "pretokenizers"))
            {
                if (!x.TryGetProperty("type", out var t) || t.GetString() != "Metaspace") continue;
                if (x.TryGetProperty("prepend_scheme", out var scheme))
                    return scheme.GetString() switch
                    {
                        "first" => DummyPrefixScheme.First,
                        "always" => DummyPrefixScheme.Always,
                        _ => DummyPrefixScheme.Never,
                    };
                // Older files: add_prefix_space true means "always".
                return x.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind == JsonValueKind.True
                    ? DummyPrefixScheme.Always
                    : DummyPrefixScheme.Never;
            }
        }

        return DummyPrefixScheme.Never;
    }

    // A normalizer/pre-tokenizer is either one object or a "Sequence" holding a list of them.
    private static IEnumerable<JsonElement> Flatten(JsonElement e, string listKey)
    {
        if (e.ValueKind != JsonValueKind.Object) yield break;
        if (e.TryGetProperty(listKey, out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var x in list.EnumerateArray())
            foreach (var y in Flatten(x, listKey))
                yield return y;
        }
        else
        {
            yield return e;
        }
    }
}
