using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using Microsoft.ML.Tokenizers;

namespace ULlava.Perception.Model.Tokenization;

/// <summary>
/// The u-LLaVA (LLaMA) tokenizer, matching Hugging Face <c>LlamaTokenizer</c> with legacy=False: the input is split on
/// added tokens, each remaining chunk is SentencePiece-encoded by Microsoft.ML.Tokenizers with spaces escaped as "▁",
/// and only the chunk at offset 0 that does not already start with a space gets the "▁" dummy prefix.
/// (The library's own LlamaTokenizer prefixes every chunk, which is the legacy=True behaviour.)
/// </summary>
public sealed class ULlavaTokenizer
{
    private const char Space = '\u2581';

    private readonly SentencePieceTokenizer _model;
    private readonly string[] _pieces;                 // id → token text (base pieces and added tokens)
    private readonly Dictionary<string, int> _tokenToId;
    private readonly Dictionary<int, AddedToken> _addedById;
    private readonly Regex? _addedSplitter;
    private readonly AddedToken[] _splitterTokens;    // group i+1 of the splitter matches _splitterTokens[i]
    private readonly short[] _byteOfId;                // -1, or the byte a "<0xXX>" token stands for

    private ULlavaTokenizer(SentencePieceTokenizer model, IReadOnlyList<string> basePieces, IEnumerable<AddedToken> added, DummyPrefixScheme prefix,
        string bos, string eos, string unk, string? pad, string source)
    {
        _model = model;
        Prefix = prefix;
        Source = source;

        _tokenToId = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < basePieces.Count; i++) _tokenToId.TryAdd(basePieces[i], i);
        _addedById = new Dictionary<int, AddedToken>();
        foreach (var a in added)
        {
            _addedById[a.Id] = a;
            _tokenToId[a.Content] = a.Id;
        }

        VocabSize = Math.Max(basePieces.Count, _addedById.Keys.DefaultIfEmpty(-1).Max() + 1);
        _pieces = new string[VocabSize];
        for (var i = 0; i < basePieces.Count; i++) _pieces[i] = basePieces[i];
        foreach (var (id, a) in _addedById) _pieces[id] = a.Content;
        for (var i = 0; i < _pieces.Length; i++)
            if (_pieces[i] is null) throw new InvalidDataException($"{source}: no token has id {i} (ids must be contiguous)");

        _byteOfId = _pieces.Select(ByteOf).ToArray();

        BosId = RequireId(bos, "bos");
        EosId = RequireId(eos, "eos");
        UnkId = RequireId(unk, "unk");
        PadId = pad is not null && _tokenToId.TryGetValue(pad, out var padId) ? padId : null;

        // Longest first, so that "</s>" wins over a shorter token at the same place (tokenizers matches leftmost-longest).
        _splitterTokens = _addedById.Values.OrderByDescending(a => a.Content.Length).ThenBy(a => a.Id).ToArray();
        if (_splitterTokens.Length > 0)
        {
            var alternatives = _splitterTokens.Select(a =>
                "(" + (a.LStrip ? @"\s*" : "") + Regex.Escape(a.Content) + (a.RStrip ? @"\s*" : "") + ")");
            _addedSplitter = new Regex(string.Join("|", alternatives), RegexOptions.CultureInvariant);
        }
    }

    /// <summary>Which file the vocabulary came from: "tokenizer.model" or "tokenizer.json".</summary>
    public string Source { get; }

    /// <summary>Which chunks get the "▁" dummy prefix.</summary>
    public DummyPrefixScheme Prefix { get; }

    public int BosId { get; }
    public int EosId { get; }
    public int UnkId { get; }

    /// <summary>The pad token's id ([PAD] for u-LLaVA); null when the checkpoint names none.</summary>
    public int? PadId { get; }

    /// <summary>Base vocabulary plus added tokens (len(tokenizer) in transformers).</summary>
    public int VocabSize { get; }

    /// <summary>Added tokens (u-LLaVA's eleven plus &lt;s&gt;, &lt;/s&gt;, &lt;unk&gt;) by id.</summary>
    public IReadOnlyDictionary<int, AddedToken> AddedTokens => _addedById;

    /// <summary>
    /// Loads a checkpoint folder. Prefers tokenizer.model (+ added_tokens.json, special_tokens_map.json,
    /// tokenizer_config.json), else tokenizer.json (the fast-tokenizer layout).
    /// </summary>
    public static ULlavaTokenizer FromFolder(string folder)
    {
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"tokenizer folder '{folder}' does not exist");

        var spModel = Path.Combine(folder, "tokenizer.model");
        var fast = Path.Combine(folder, "tokenizer.json");
        var config = TokenizerConfigFiles.Read(folder);
        if (File.Exists(spModel))
        {
            var bytes = File.ReadAllBytes(spModel);
            var model = CreateModel(bytes);
            var prefix = config.Legacy == true ? DummyPrefixScheme.AlwaysUnconditional
                : model.AddDummyPrefix ? DummyPrefixScheme.First : DummyPrefixScheme.Never;
            return Build(model, bytes, config.Added.Values, prefix,
                config.Bos ?? model.BeginningOfSentenceToken, config.Eos ?? model.EndOfSentenceToken,
                config.Unk ?? model.UnknownToken, config.Pad, "tokenizer.model");
        }

        if (File.Exists(fast))
        {
            var json = TokenizerJsonModel.Read(fast);
            var model = CreateModel(json.SentencePieceModel);
            var added = json.Added.ToDictionary(a => a.Content, StringComparer.Ordinal);
            foreach (var a in config.Added.Values) added.TryAdd(a.Content, a);
            // u-LLaVA always adds [PAD]; a tokenizer.json alone does not say it is the pad token.
            var pad = config.Pad ?? json.Pad ?? (added.ContainsKey(ULlavaTokens.Pad) ? ULlavaTokens.Pad : null);
            return Build(model, json.SentencePieceModel, added.Values, json.Prefix, config.Bos ?? json.Bos ?? model.BeginningOfSentenceToken,
                config.Eos ?? model.EndOfSentenceToken, config.Unk ?? json.Unk ?? model.UnknownToken, pad, "tokenizer.json");
        }

        throw new FileNotFoundException(
            $"no tokenizer in '{folder}': expected 'tokenizer.model' (with added_tokens.json / special_tokens_map.json / " +
            "tokenizer_config.json) or 'tokenizer.json'");
    }

    // bos/eos/unk are split out of the text like the added tokens (HF never lets "<s>" in text reach SentencePiece).
    private static ULlavaTokenizer Build(SentencePieceTokenizer model, byte[] modelBytes, IEnumerable<AddedToken> added,
        DummyPrefixScheme prefix, string bos, string eos, string unk, string? pad, string source)
    {
        var pieces = SentencePieceModelProto.ReadPieces(modelBytes).Select(p => p.Text).ToList();
        var all = added.ToDictionary(a => a.Content, StringComparer.Ordinal);
        foreach (var name in new[] { bos, eos, unk })
        {
            var id = pieces.IndexOf(name);
            if (!all.ContainsKey(name) && id >= 0) all[name] = new AddedToken(name, id);
        }
        return new ULlavaTokenizer(model, pieces, all.Values, prefix, bos, eos, unk, pad, source);
    }

    private static SentencePieceTokenizer CreateModel(byte[] modelBytes)
    {
        using var stream = new MemoryStream(modelBytes, writable: false);
        return SentencePieceTokenizer.Create(stream, addBeginningOfSentence: false, addEndOfSentence: false);
    }

    /// <summary>Token ids of <paramref name="text"/>, with BOS first when <paramref name="addBos"/>; "" gives [BOS].</summary>
    public int[] Encode(string text, bool addBos = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 2 + 2);
        if (addBos) ids.Add(BosId);

        var offset = 0;
        if (_addedSplitter is not null)
        {
            for (var m = _addedSplitter.Match(text); m.Success; m = m.NextMatch())
            {
                EncodeChunk(text, offset, m.Index - offset, ids);
                ids.Add(MatchedToken(m).Id);
                offset = m.Index + m.Length;
            }
        }
        EncodeChunk(text, offset, text.Length - offset, ids);
        return ids.ToArray();
    }

    private AddedToken MatchedToken(Match m)
    {
        for (var g = 1; g < m.Groups.Count; g++)
            if (m.Groups[g].Success) return _splitterTokens[g - 1];
        throw new InvalidOperationException("added-token match without a group");
    }

    private void EncodeChunk(string text, int start, int length, List<int> ids)
    {
        if (length == 0) return;
        var chunk = text.AsSpan(start, length);
        var prefix = Prefix switch
        {
            DummyPrefixScheme.First => start == 0 && chunk[0] != ' ' && chunk[0] != Space,
            DummyPrefixScheme.Always => chunk[0] != ' ' && chunk[0] != Space,
            DummyPrefixScheme.AlwaysUnconditional => true,
            _ => false,
        };

        var normalized = new StringBuilder(length + 1);
        if (prefix) normalized.Append(Space);
        foreach (var c in chunk) normalized.Append(c == ' ' ? Space : c);

        // Normalisation is ours (above); the library only runs the SentencePiece BPE with byte fallback.
        ids.AddRange(_model.EncodeToIds(normalized.ToString(), addBeginningOfSentence: false, addEndOfSentence: false,
            considerPreTokenization: false, considerNormalization: false));
    }

    /// <summary>
    /// Text of <paramref name="ids"/>, as Hugging Face decodes it: "▁" → " ", byte tokens joined into UTF-8 (an invalid
    /// run becomes one U+FFFD per byte), one leading space removed; special tokens left out when
    /// <paramref name="skipSpecialTokens"/>.
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var sb = new StringBuilder();
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            if (skipSpecialTokens && IsSpecial(id)) continue;
            var b = _byteOfId[CheckId(id)];
            if (b >= 0)
            {
                bytes.Add((byte)b);
                continue;
            }
            FlushBytes(bytes, sb);
            sb.Append(_pieces[id].Replace(Space, ' '));
        }
        FlushBytes(bytes, sb);
        if (sb.Length > 0 && sb[0] == ' ') sb.Remove(0, 1);
        return sb.ToString();
    }

    /// <summary>A decoder that turns ids, as they are generated, into text pieces (see <see cref="StreamingDecoder"/>).</summary>
    public StreamingDecoder CreateStreamingDecoder(bool skipSpecialTokens = true) => new(this, skipSpecialTokens);

    /// <summary>Whether <paramref name="id"/> is a special token (skipped by Decode with skipSpecialTokens).</summary>
    public bool IsSpecial(int id) => _addedById.TryGetValue(id, out var a) && a.Special;

    /// <summary>The id of a token (added or base piece), e.g. TokenToId("[SEG]").</summary>
    public int TokenToId(string token) =>
        _tokenToId.TryGetValue(token, out var id) ? id : throw new KeyNotFoundException($"'{token}' is not a token of this tokenizer");

    public bool TryTokenToId(string token, out int id) => _tokenToId.TryGetValue(token, out id);

    /// <summary>The token text of an id ("▁Sure", "&lt;0x0A&gt;", "[SEG]").</summary>
    public string IdToToken(int id) => _pieces[CheckId(id)];

    /// <summary>The byte a byte-fallback token stands for, or -1.</summary>
    internal int ByteOfId(int id) => _byteOfId[CheckId(id)];

    private int CheckId(int id) =>
        (uint)id < (uint)_pieces.Length ? id : throw new ArgumentOutOfRangeException(nameof(id), id, $"token id outside 0..{_pieces.Length - 1}");

    private int RequireId(string token, string role) => _tokenToId.TryGetValue(token, out var id)
        ? id
        : throw new InvalidDataException($"{Source}: the {role} token '{token}' is not in the vocabulary");

    private static short ByteOf(string piece) =>
        piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>' &&
        byte.TryParse(piece.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b)
            ? b
            : (short)-1;

    // tokenizers' ByteFallback decoder: a run of byte tokens is UTF-8 as a whole, or else one U+FFFD per byte.
    private static void FlushBytes(List<byte> bytes, StringBuilder sb)
    {
        if (bytes.Count == 0) return;
        var input = bytes.ToArray();
        var chars = new char[input.Length];
        var status = Utf8.ToUtf16(input, chars, out _, out var written, replaceInvalidSequences: false, isFinalBlock: true);
        if (status == OperationStatus.Done) sb.Append(chars, 0, written);
        else sb.Append('\uFFFD', input.Length);
        bytes.Clear();
    }
}
