namespace ULlava.Perception.Core.Inference;

/// <summary>One instruction to run on a frame (or a window of frames).</summary>
public sealed record InstructionRequest(
    string Text,
    InstructionKind Kind = InstructionKind.Auto,
    int MaxNewTokens = 64,
    float Temperature = 0f,
    float TopP = 1f,
    int? Seed = null)
{
    /// <summary>The caption question every caption request without text asks: the wording the bundled model was trained on.</summary>
    public const string DefaultCaptionQuestion = "Describe the image briefly.";

    /// <summary>
    /// Whether u-LLaVA's teacher-forced answer template answers it (segmentation, grounding) rather than generation: such
    /// requests run without decoding and can share a batch (<see cref="IInferenceEngine.RunBatch"/>).
    /// </summary>
    public bool AnswersByTemplate() => Kind is InstructionKind.Segment or InstructionKind.Ground;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Text)) throw new ArgumentException("instruction text is empty", nameof(Text));
        if (MaxNewTokens is < 1 or > 4096) throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), $"max new tokens {MaxNewTokens}: expected 1 to 4096");
        if (!(Temperature >= 0 && Temperature <= 10)) throw new ArgumentOutOfRangeException(nameof(Temperature), $"temperature {Temperature}: expected 0 (greedy) to 10");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentOutOfRangeException(nameof(TopP), $"top-p {TopP}: expected more than 0, at most 1");
    }
}
