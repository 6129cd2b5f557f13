namespace ULlava.Perception.Core.Inference;

/// <summary>A classic SAM prompt in frame pixels: points (positive or negative) and/or one box.</summary>
public sealed record SamPrompt(IReadOnlyList<SamPoint> Points, SamBox? Box, bool Multimask)
{
    public void Validate(int width, int height)
    {
        if (Points.Count == 0 && Box is null) throw new ArgumentException("a SAM prompt needs at least one point or a box");
        foreach (var p in Points)
        {
            if (!(p.X >= 0 && p.X <= width && p.Y >= 0 && p.Y <= height))
                throw new ArgumentOutOfRangeException(nameof(Points), $"point ({p.X}, {p.Y}) is outside the {width}x{height} frame");
        }
        if (Box is { } b && !(b.XMin >= 0 && b.YMin >= 0 && b.XMax <= width && b.YMax <= height && b.XMin < b.XMax && b.YMin < b.YMax))
            throw new ArgumentOutOfRangeException(nameof(Box), $"box ({b.XMin}, {b.YMin}, {b.XMax}, {b.YMax}) is not a non-empty box inside the {width}x{height} frame");
    }
}
