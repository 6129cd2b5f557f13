namespace ULlava.Perception.Core.Inference;

/// <summary>A [LOC] box in frame pixels, xyxy.</summary>
public sealed record DetectedBox(float XMin, float YMin, float XMax, float YMax, string? Phrase, int Index, float Score = 1f);
