namespace ULlava.Training.Scenes;

/// <summary>An axis-aligned box in pixels, xyxy with exclusive max (a one-pixel mask at (x, y) is [x, y, x+1, y+1]).</summary>
public readonly record struct PixelBox(float XMin, float YMin, float XMax, float YMax)
{
    public float Width => Math.Max(0, XMax - XMin);
    public float Height => Math.Max(0, YMax - YMin);
    public float Area => Width * Height;

    public float IoU(PixelBox other)
    {
        float iw = Math.Max(0, Math.Min(XMax, other.XMax) - Math.Max(XMin, other.XMin));
        float ih = Math.Max(0, Math.Min(YMax, other.YMax) - Math.Max(YMin, other.YMin));
        float inter = iw * ih, union = Area + other.Area - inter;
        return union > 0 ? inter / union : 0;
    }

    /// <summary>The tight box of the non-zero pixels of a row-major mask; null when the mask is empty.</summary>
    public static PixelBox? OfMask(ReadOnlySpan<byte> mask, int width, int height)
    {
        int x0 = int.MaxValue, y0 = int.MaxValue, x1 = -1, y1 = -1;
        for (int y = 0; y < height; y++)
        {
            var row = mask.Slice(y * width, width);
            int first = row.IndexOfAnyExcept((byte)0);
            if (first < 0) continue;
            int last = row.LastIndexOfAnyExcept((byte)0);
            x0 = Math.Min(x0, first);
            x1 = Math.Max(x1, last);
            y0 = Math.Min(y0, y);
            y1 = y;
        }
        return x1 < 0 ? null : new PixelBox(x0, y0, x1 + 1, y1 + 1);
    }
}
