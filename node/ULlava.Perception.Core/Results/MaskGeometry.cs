namespace ULlava.Perception.Core.Results;

/// <summary>Area, tight bounding box and centroid of a binary mask.</summary>
public readonly record struct MaskGeometry(int Area, int XMin, int YMin, int XMax, int YMax, double CentroidX, double CentroidY)
{
    /// <summary>Measures a row-major 0/1 mask; an empty mask has area 0 and a zero box.</summary>
    public static MaskGeometry Measure(ReadOnlySpan<byte> pixels, int width, int height)
    {
        int area = 0, xMin = width, yMin = height, xMax = -1, yMax = -1;
        double sx = 0, sy = 0;
        for (int y = 0; y < height; y++)
        {
            var row = pixels.Slice(y * width, width);
            for (int x = 0; x < width; x++)
            {
                if (row[x] == 0) continue;
                area++;
                sx += x;
                sy += y;
                if (x < xMin) xMin = x;
                if (x > xMax) xMax = x;
                if (y < yMin) yMin = y;
                if (y > yMax) yMax = y;
            }
        }
        return area == 0 ? default : new MaskGeometry(area, xMin, yMin, xMax + 1, yMax + 1, sx / area + 0.5, sy / area + 0.5);
    }
}
