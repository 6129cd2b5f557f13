using System.Buffers;
using System.Text.Unicode;

namespace ULlava.Perception.Model.Tokenization;

/// <summary>
/// Turns generated ids into text pieces as they arrive, for streaming a reply. Each <see cref="Push"/> returns the
/// text that the new id completes; byte-fallback tokens that end in the middle of a UTF-8 character are held back
/// until the character is complete (or <see cref="Flush"/>). The pieces concatenate to
/// <see cref="ULlavaTokenizer.Decode"/> of all ids, except after an invalid byte run that began as valid UTF-8,
/// where Decode turns the whole run into U+FFFD but the already-sent valid part cannot be taken back.
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
        return Emit(_ids.Count - IncompleteTailLength());
    }

    /// <summary>Sends whatever is held back (an unfinished UTF-8 character decodes as U+FFFD).</summary>
    public string Flush() => Emit(_ids.Count);

    // Decoding is a pure function of the ids, and it only changes at the end as ids are appended (the one leading
    // space it strips is the first character), so the new text is the decode of the stable ids minus what was sent.
    private string Emit(int stableCount)
    {
        var text = _tokenizer.Decode(_ids.Take(stableCount), _skipSpecialTokens);
        var piece = text.Length > _emitted.Length ? text[_emitted.Length..] : "";
        _emitted += piece;
        return piece;
    }

    // The trailing run of byte tokens, if its bytes end inside a UTF-8 character.
    private int IncompleteTailLength()
    {
        var run = 0;
        for (var i = _ids.Count - 1; i >= 0 && _tokenizer.ByteOfId(_ids[i]) >= 0; i--) run++;
        if (run == 0) return 0;

        var bytes = new byte[run];
        for (var k = 0; k < run; k++) bytes[k] = (byte)_tokenizer.ByteOfId(_ids[_ids.Count - run + k]);
        var chars = new char[run];
        var status = Utf8.ToUtf16(bytes, chars, out _, out _, replaceInvalidSequences: false, isFinalBlock: false);
        return status == OperationStatus.NeedMoreData ? run : 0;
    }
}
