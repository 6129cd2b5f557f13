namespace ULlava.Perception.Core.Inference;

/// <summary>What the model answered: text (special tokens removed), masks and boxes in answer order, timings.</summary>
public sealed record InstructionAnswer(
    string Text,
    IReadOnlyList<SegmentationMask> Masks,
    IReadOnlyList<DetectedBox> Boxes,
    InferenceTimings Timings);
