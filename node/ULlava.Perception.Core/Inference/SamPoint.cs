namespace ULlava.Perception.Core.Inference;

/// <summary>A point prompt in frame pixels; negative points mark background.</summary>
public readonly record struct SamPoint(float X, float Y, bool Positive = true);
