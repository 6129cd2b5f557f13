namespace ULlava.Perception.Core.Inference;

/// <summary>Where one instruction's time went (milliseconds).</summary>
public sealed record InferenceTimings
{
    public double EncodeMs { get; init; }
    public double PrefillMs { get; init; }
    public double DecodeMs { get; init; }
    public double MaskMs { get; init; }
    public int PromptTokens { get; init; }
    public int GeneratedTokens { get; init; }
    public bool VisualCacheHit { get; init; }
}
