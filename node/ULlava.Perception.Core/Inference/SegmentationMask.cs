namespace ULlava.Perception.Core.Inference;

/// <summary>A binary mask at frame size (row-major, one byte per pixel, 0 or 1) with SAM's IoU score.</summary>
public sealed record SegmentationMask(int Width, int Height, byte[] Pixels, float Score, string? Phrase, int Index);
