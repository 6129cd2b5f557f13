using OpenCvSharp;
using ULlava.Perception.Calibration;

namespace ULlava.Perception.Calibration.Tests;

/// <summary>
/// Renders a 9×6 (inner corners) chessboard of 25 mm squares as a camera with a known model sees it, by inverse
/// mapping: every sub-pixel of the distorted image is undistorted (OpenCV directly, not the code under test), its
/// ray meets the board plane, and the square it lands in gives the colour. 3×3 sub-pixels anti-alias the edges.
/// </summary>
public sealed class SyntheticBoard
{
    public static readonly Size Pattern = new(9, 6);
    public const double Square = 0.025;
    private const int Supersample = 3;

    private readonly float[] nx;
    private readonly float[] ny;

    public SyntheticBoard(CameraModel truth)
    {
        Truth = truth;
        int w = truth.Width, h = truth.Height, count = w * h * Supersample * Supersample;
        var pixels = new Point2d[count];
        int i = 0;
        for (int v = 0; v < h; v++)
            for (int u = 0; u < w; u++)
                for (int sy = 0; sy < Supersample; sy++)
                    for (int sx = 0; sx < Supersample; sx++)
                        pixels[i++] = new Point2d(u + (sx + 0.5) / Supersample - 0.5, v + (sy + 0.5) / Supersample - 0.5);
        using var src = Mat.FromArray(pixels);
        using var dst = new Mat();
        using var k = Mat.FromPixelData(3, 3, MatType.CV_64FC1, truth.K.ToArray());
        using var d = Mat.FromPixelData(1, truth.D.Count, MatType.CV_64FC1, truth.D.ToArray());
        if (truth.Distortion == DistortionModel.Equidistant)
            Cv2.FishEye.UndistortPoints(src, dst, k, d, null, null);
        else
            Cv2.UndistortPointsIter(src, dst, k, d, null, null, new TermCriteria(CriteriaTypes.Count | CriteriaTypes.Eps, 200, 1e-14));
        using var asDouble = new Mat();
        dst.ConvertTo(asDouble, MatType.CV_64FC2);
        asDouble.GetArray(out Point2d[] normalized);
        nx = normalized.Select(p => (float)p.X).ToArray();
        ny = normalized.Select(p => (float)p.Y).ToArray();
    }

    public CameraModel Truth { get; }

    /// <summary>
    /// The board seen from a pose (board frame → camera frame), as an 8-bit grey image. With a
    /// <paramref name="texture"/> (a ChArUco board image), board point (0, 0) is its pixel (margin, margin) and one
    /// square (<paramref name="textureSquare"/> metres) is <paramref name="pixelsPerSquare"/> pixels; otherwise the analytic 9×6 chessboard.
    /// </summary>
    public Mat Render(Vec3d rvec, Vec3d tvec, Mat? texture = null, int pixelsPerSquare = 0, int margin = 0, double textureSquare = Square)
    {
        byte[]? tex = null;
        int tw = 0, th = 0;
        if (texture is not null)
        {
            texture.GetArray(out tex);
            (tw, th) = (texture.Width, texture.Height);
        }
        Cv2.Rodrigues(new[] { rvec.Item0, rvec.Item1, rvec.Item2 }, out double[,] r, out _);
        // Board point (X, Y, 0) → camera: [r1 r2 t]·(X, Y, 1); its inverse takes a normalised ray back to the board.
        using var hm = new Mat(3, 3, MatType.CV_64FC1);
        hm.SetArray(new[] { r[0, 0], r[0, 1], tvec.Item0, r[1, 0], r[1, 1], tvec.Item1, r[2, 0], r[2, 1], tvec.Item2 });
        using var inv = hm.Inv().ToMat();
        inv.GetArray(out double[] hi);
        int w = Truth.Width, h = Truth.Height, ss = Supersample * Supersample;
        var bytes = new byte[w * h];
        for (int p = 0; p < w * h; p++)
        {
            double sum = 0;
            for (int s = 0; s < ss; s++)
            {
                double x = nx[p * ss + s], y = ny[p * ss + s];
                double bz = hi[6] * x + hi[7] * y + hi[8];
                double bx = (hi[0] * x + hi[1] * y + hi[2]) / bz, by = (hi[3] * x + hi[4] * y + hi[5]) / bz;
                if (tex is null)
                {
                    sum += Shade(bx / Square, by / Square, bz);
                    continue;
                }
                int u = (int)Math.Floor(margin + bx / textureSquare * pixelsPerSquare), v = (int)Math.Floor(margin + by / textureSquare * pixelsPerSquare);
                sum += bz > 0 && u >= 0 && v >= 0 && u < tw && v < th ? tex[v * tw + u] : 90;
            }
            bytes[p] = (byte)Math.Round(sum / ss);
        }
        var image = new Mat(h, w, MatType.CV_8UC1);
        image.SetArray(bytes);
        return image;
    }

    /// <summary>Squares −1..9 × −1..6 (in square units) are the board; one white square of margin around it; grey beyond.</summary>
    private static double Shade(double sx, double sy, double bz)
    {
        if (bz <= 0) return 90;
        int ix = (int)Math.Floor(sx), iy = (int)Math.Floor(sy);
        if (ix >= -1 && ix <= Pattern.Width - 1 && iy >= -1 && iy <= Pattern.Height - 1)
            return ((ix + iy) & 1) == 0 ? 20 : 235;
        if (ix >= -2 && ix <= Pattern.Width && iy >= -2 && iy <= Pattern.Height) return 235;
        return 90;
    }

    /// <summary>
    /// Seeded random poses, tilted up to ~35° and spread over the image, kept only when the whole board and its
    /// margin project at least 8 px inside the image (so corners reach the distorted edges but stay detectable).
    /// </summary>
    /// <param name="extent">The board's outline in its own frame (metres); the 9×6 chessboard with its margin by default.</param>
    public List<(Vec3d R, Vec3d T)> Poses(int count, int seed, (double X0, double Y0, double X1, double Y1)? extent = null)
    {
        var random = new Random(seed);
        var poses = new List<(Vec3d, Vec3d)>();
        var (x0, y0, x1, y1) = extent ?? (-2 * Square, -2 * Square, (Pattern.Width + 1) * Square, (Pattern.Height + 1) * Square);
        var centre = new Point3d((x0 + x1) / 2, (y0 + y1) / 2, 0);
        var outline = new[] { (x0, y0), (x1, y0), (x0, y1), (x1, y1), (centre.X, y0), (centre.X, y1), (x0, centre.Y), (x1, centre.Y) }
            .Select(c => new Point3d(c.Item1, c.Item2, 0)).ToArray();
        for (int attempt = 0; poses.Count < count && attempt < 100000; attempt++)
        {
            var rv = new Vec3d(random.NextDouble() * 1.2 - 0.6, random.NextDouble() * 1.2 - 0.6, random.NextDouble() * 0.8 - 0.4);
            double z = 0.38 + random.NextDouble() * 0.3;
            var c = new Point3d((random.NextDouble() * 2 - 1) * 0.35 * z, (random.NextDouble() * 2 - 1) * 0.3 * z, z);
            Cv2.Rodrigues(new[] { rv.Item0, rv.Item1, rv.Item2 }, out double[,] r, out _);
            var t = new Vec3d(
                c.X - (r[0, 0] * centre.X + r[0, 1] * centre.Y),
                c.Y - (r[1, 0] * centre.X + r[1, 1] * centre.Y),
                c.Z - (r[2, 0] * centre.X + r[2, 1] * centre.Y));
            bool inside = outline.All(o =>
            {
                double x = r[0, 0] * o.X + r[0, 1] * o.Y + t.Item0, y = r[1, 0] * o.X + r[1, 1] * o.Y + t.Item1, zc = r[2, 0] * o.X + r[2, 1] * o.Y + t.Item2;
                if (zc < 0.1) return false;
                var px = Truth.ProjectToPixel(new Point3d(x, y, zc));
                return px.X > 8 && px.Y > 8 && px.X < Truth.Width - 8 && px.Y < Truth.Height - 8;
            });
            if (inside) poses.Add((rv, t));
        }
        return poses;
    }
}
