namespace ULlava.Perception.Core.Tracking;

/// <summary>
/// What the tracker compares between frames: a box in pixels (xyxy) and, for masks, the mask itself
/// (row-major 0/1 at <see cref="Width"/>×<see cref="Height"/>), so IoU is measured on pixels when both have one.
/// </summary>
public sealed record TrackedObject(float XMin, float YMin, float XMax, float YMax, byte[]? Mask = null, int Width = 0, int Height = 0);
