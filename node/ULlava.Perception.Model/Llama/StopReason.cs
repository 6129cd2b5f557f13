namespace ULlava.Perception.Model.Llama;

/// <summary>Why generation ended.</summary>
public enum StopReason
{
    /// <summary>Every row produced an end-of-sequence token.</summary>
    EndOfSequence,
    MaxNewTokens,
    /// <summary>The KV cache had no room for the next token.</summary>
    CacheFull,
    Cancelled,
}
