namespace ULlava.Perception.Model.Tokenization;

/// <summary>
/// Turns generated ids into text pieces as they arrive, for streaming a reply. Each <see cref="Push"/> returns the
/// text the new id completes. A trailing run of byte-fallback tokens is held back until a normal token (or
/// <see cref="Flush"/>) ends it: Hugging Face decodes a byte run as UTF-8 as a whole, or as one U+FFFD per byte if
/// the whole run is invalid, so neither an unfinished character nor a run that may still turn invalid can be sent
/// early. The pieces therefore always concatenate to <see cref="ULlavaTokenizer.Decode"/> of all ids.
/// </summary>
public sealed class StreamingDecoder
{
    private readonly ULlavaTokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly List<int> _ids = [];
    private string _emitted = "";

    internal StreamingDecoder(ULlavaTokenizer tokenizer, bool skipSpecialTokens)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>All ids pushed so far.</summary>
    public IReadOnlyList<int> Ids => _ids;

    /// <summary>The text sent so far.</summary>
    public string Text => _emitted;

    /// <summary>Adds one generated id; returns the newly completed text (possibly "").</summary>
    public string Push(int id)
    {
        _tokenizer.IdToToken(id); // rejects an out-of-range id before it enters the history
        _ids.Add(id);
        var run = 0;
        for (var i = _ids.Count - 1; i >= 0 && HoldsBack(_ids[i]); i--) run++;
        return Emit(_ids.Count - run);
    }

    // A skipped special token vanishes from the text, so the byte runs on either side of it join into one run:
    // it cannot end a run, and is held back with it.
    private bool HoldsBack(int id) => _tokenizer.ByteOfId(id) >= 0 || (_skipSpecialTokens && _tokenizer.IsSpecial(id));

    /// <summary>Sends whatever is held back (an unfinished UTF-8 character decodes as U+FFFD, as in Decode).</summary>
    public string Flush() => Emit(_ids.Count);

    // The decode of ids that end before a byte run is final up to its end (the one leading space Decode strips is
    // the first character), so each new decode extends the text already sent.
    private string Emit(int stableCount)
    {
        var text = _tokenizer.Decode(_ids.Take(stableCount), _skipSpecialTokens);
        if (!text.StartsWith(_emitted, StringComparison.Ordinal))
            throw new InvalidOperationException("decoded text no longer extends the text already streamed");
        var piece = text[_emitted.Length..];
        _emitted = text;
        return piece;
    }
}
