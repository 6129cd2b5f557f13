namespace ULlava.Training.Scenes;

/// <summary>
/// Point-in-shape tests in a shape's own frame (unit half-extent, y down), and the pixel coverage of a placed shape.
/// Pixel centres are sampled once (no anti-aliasing), so masks are exact: a pixel is the shape's or not.
/// </summary>
public static class ShapeRaster
{
    private static readonly (double X, double Y)[] Triangle = [(0, -1), (0.95, 0.75), (-0.95, 0.75)];
    private static readonly (double X, double Y)[] Star = RegularStar(5, 1.0, 0.45);
    private static readonly (double X, double Y)[] Hexagon = Regular(6, 1.0, 0);
    private static readonly (double X, double Y)[] House = [(0, -1), (0.9, -0.15), (0.7, -0.15), (0.7, 0.9), (-0.7, 0.9), (-0.7, -0.15), (-0.9, -0.15)];

    /// <summary>Whether the point (x, y) of the shape's unit frame is inside it.</summary>
    public static bool Contains(ShapeKind shape, double x, double y) => shape switch
    {
        ShapeKind.Circle => x * x + y * y <= 1,
        ShapeKind.Square => Math.Abs(x) <= 0.8 && Math.Abs(y) <= 0.8,
        ShapeKind.Triangle => InPolygon(Triangle, x, y),
        ShapeKind.Star => InPolygon(Star, x, y),
        ShapeKind.Hexagon => InPolygon(Hexagon, x, y),
        ShapeKind.Diamond => Math.Abs(x) / 0.75 + Math.Abs(y) <= 1,
        ShapeKind.Cross => (Math.Abs(x) <= 0.3 && Math.Abs(y) <= 0.9) || (Math.Abs(y) <= 0.3 && Math.Abs(x) <= 0.9),
        ShapeKind.Heart => InHeart(x, y),
        ShapeKind.Ring => x * x + y * y <= 1 && x * x + y * y >= 0.3,
        ShapeKind.House => InPolygon(House, x, y),
        _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, null),
    };

    /// <summary>
    /// Calls <paramref name="onPixel"/> for each pixel whose centre lies in the shape centred at (cx, cy) with
    /// half-extent <paramref name="radius"/>, rotated by <paramref name="rotation"/> radians, clipped to the image.
    /// </summary>
    public static void Cover(ShapeKind shape, double cx, double cy, double radius, double rotation, int width, int height, Action<int, int> onPixel)
    {
        // Every shape fits its unit circle scaled by 1.25 (the heart's lobes reach a little past 1).
        double reach = radius * 1.25;
        int x0 = Math.Max(0, (int)Math.Floor(cx - reach)), x1 = Math.Min(width - 1, (int)Math.Ceiling(cx + reach));
        int y0 = Math.Max(0, (int)Math.Floor(cy - reach)), y1 = Math.Min(height - 1, (int)Math.Ceiling(cy + reach));
        double cos = Math.Cos(rotation), sin = Math.Sin(rotation);
        for (int y = y0; y <= y1; y++)
        {
            double dy = y + 0.5 - cy;
            for (int x = x0; x <= x1; x++)
            {
                double dx = x + 0.5 - cx;
                // Rotate the pixel back into the shape's frame.
                double u = (cos * dx + sin * dy) / radius, v = (-sin * dx + cos * dy) / radius;
                if (Contains(shape, u, v)) onPixel(x, y);
            }
        }
    }

    private static bool InHeart(double x, double y)
    {
        // The classic implicit heart, y up: (X² + Y² − 1)³ − X²Y³ ≤ 0, scaled to about the unit square.
        double X = x * 1.15, Y = -y * 1.15 + 0.15;
        double a = X * X + Y * Y - 1;
        return a * a * a - X * X * Y * Y * Y <= 0;
    }

    private static bool InPolygon((double X, double Y)[] poly, double x, double y)
    {
        bool inside = false;
        for (int i = 0, j = poly.Length - 1; i < poly.Length; j = i++)
        {
            var (xi, yi) = poly[i];
            var (xj, yj) = poly[j];
            if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
        }
        return inside;
    }

    private static (double X, double Y)[] Regular(int n, double r, double phase) =>
        Enumerable.Range(0, n).Select(i => (r * Math.Cos(phase + 2 * Math.PI * i / n), r * Math.Sin(phase + 2 * Math.PI * i / n))).ToArray();

    private static (double X, double Y)[] RegularStar(int points, double outer, double inner) =>
        Enumerable.Range(0, 2 * points).Select(i =>
        {
            double angle = -Math.PI / 2 + Math.PI * i / points;
            double r = i % 2 == 0 ? outer : inner;
            return (r * Math.Cos(angle), r * Math.Sin(angle));
        }).ToArray();
}
