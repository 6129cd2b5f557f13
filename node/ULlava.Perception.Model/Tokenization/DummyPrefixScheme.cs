namespace ULlava.Perception.Model.Tokenization;

/// <summary>When a chunk of text (between added tokens) gets SentencePiece's "▁" dummy prefix.</summary>
public enum DummyPrefixScheme
{
    /// <summary>Never.</summary>
    Never,

    /// <summary>
    /// Only the chunk at offset 0 of the input, and only when it does not already start with a space:
    /// LlamaTokenizer with legacy=False (Metaspace prepend_scheme "first"), what u-LLaVA's reference uses.
    /// </summary>
    First,

    /// <summary>Every chunk that does not already start with a space (Metaspace prepend_scheme "always").</summary>
    Always,

    /// <summary>Every chunk, unconditionally: the legacy layout (a Prepend("▁") normalizer), i.e. legacy=True.</summary>
    AlwaysUnconditional,
}
