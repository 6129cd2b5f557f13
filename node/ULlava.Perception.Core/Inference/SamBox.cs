namespace ULlava.Perception.Core.Inference;

/// <summary>A box prompt in frame pixels, xyxy.</summary>
public readonly record struct SamBox(float XMin, float YMin, float XMax, float YMax);
