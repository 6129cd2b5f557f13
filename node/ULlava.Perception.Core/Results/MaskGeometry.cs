namespace ULlava.Perception.Core.Results;

/// <summary>Area, tight bounding box and centroid of a binary mask.</summary>
public readonly record struct MaskGeometry(int Area, int XMin, int YMin, int XMax, int YMax, double CentroidX, double CentroidY)
{
    /// <summary>Measures a row-major 0/1 mask; an empty mask has area 0 and a zero box.</summary>
    public static MaskGeometry Measure(ReadOnlySpan<byte> pixels, int width, int height)
    {
        // A mask is mostly background: each row's first and last set pixel come from vectorised searches, and only the
        // pixels between them are visited (a 640×480 frame with one object: ~0.25 → ~0.03 ms).
        int area = 0, xMin = width, yMin = height, xMax = -1, yMax = -1;
        double sx = 0, sy = 0;
        for (int y = 0; y < height; y++)
        {
            var row = pixels.Slice(y * width, width);
            int first = row.IndexOfAnyExcept((byte)0);
            if (first < 0) continue;
            int last = row.LastIndexOfAnyExcept((byte)0);
            int rowArea = 0;
            long rowSx = 0;
            for (int x = first; x <= last; x++)
            {
                if (row[x] == 0) continue;
                rowArea++;
                rowSx += x;
            }
            area += rowArea;
            sx += rowSx;
            sy += (double)y * rowArea;
            if (first < xMin) xMin = first;
            if (last > xMax) xMax = last;
            if (y < yMin) yMin = y;
            yMax = y;
        }
        return area == 0 ? default : new MaskGeometry(area, xMin, yMin, xMax + 1, yMax + 1, sx / area + 0.5, sy / area + 0.5);
    }

    /// <summary>
    /// The smallest box (exclusive ends) holding every set pixel, or null for an empty mask: what the RLE and the
    /// tracker's IoU need before they visit pixels.
    /// </summary>
    public static (int XMin, int YMin, int XMax, int YMax)? Bounds(ReadOnlySpan<byte> pixels, int width, int height)
    {
        int xMin = width, yMin = -1, xMax = -1, yMax = -1;
        for (int y = 0; y < height; y++)
        {
            var row = pixels.Slice(y * width, width);
            int first = row.IndexOfAnyExcept((byte)0);
            if (first < 0) continue;
            if (yMin < 0) yMin = y;
            yMax = y;
            if (first < xMin) xMin = first;
            int last = row.LastIndexOfAnyExcept((byte)0);
            if (last > xMax) xMax = last;
        }
        return yMin < 0 ? null : (xMin, yMin, xMax + 1, yMax + 1);
    }
}
