using OpenCvSharp;

namespace ULlava.Perception.Calibration;

/// <summary>
/// A calibrated pinhole camera as ROS's CameraInfo holds it: image size, K (3×3), D, R (3×3) and P (3×4), all
/// row-major, plus the camera name and the frame id of the optical frame (x right, y down, z forward).
/// Immutable; <see cref="Scale"/> and <see cref="Crop"/> return the model of the resized or cropped image.
/// </summary>
public sealed class CameraModel
{
    private readonly double[] k;
    private readonly double[] d;
    private readonly double[] r;
    private readonly double[] p;

    /// <param name="r">Rectification rotation; identity when null (a monocular camera).</param>
    /// <param name="p">Projection of the rectified image; [K | 0] when null.</param>
    public CameraModel(
        int width, int height, IReadOnlyList<double> k, DistortionModel distortion, IReadOnlyList<double> d,
        IReadOnlyList<double>? r = null, IReadOnlyList<double>? p = null, string cameraName = "camera", string frameId = "camera")
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"image size must be positive, got {width}x{height}");
        if (k.Count != 9) throw new ArgumentException($"K must have 9 values (3x3), got {k.Count}", nameof(k));
        int expected = DistortionModels.CoefficientCount(distortion);
        if (d.Count != expected)
            throw new ArgumentException($"{DistortionModels.RosName(distortion)} needs {expected} distortion coefficients, got {d.Count}", nameof(d));
        if (r is not null && r.Count != 9) throw new ArgumentException($"R must have 9 values (3x3), got {r.Count}", nameof(r));
        if (p is not null && p.Count != 12) throw new ArgumentException($"P must have 12 values (3x4), got {p.Count}", nameof(p));
        if (k[0] <= 0 || k[4] <= 0 || k[8] != 1) throw new ArgumentException("K must have positive fx, fy and K[2,2] = 1", nameof(k));
        if (!k.Concat(d).Concat(r ?? []).Concat(p ?? []).All(double.IsFinite)) throw new ArgumentException("K, D, R and P must be finite numbers", nameof(k));
        Width = width;
        Height = height;
        Distortion = distortion;
        CameraName = cameraName;
        FrameId = frameId;
        this.k = [.. k];
        this.d = [.. d];
        this.r = r is null ? [1, 0, 0, 0, 1, 0, 0, 0, 1] : [.. r];
        this.p = p is null ? [k[0], k[1], k[2], 0, k[3], k[4], k[5], 0, k[6], k[7], k[8], 0] : [.. p];
    }

    /// <summary>A camera from fx, fy, cx, cy (no skew); D all zeros when null.</summary>
    public static CameraModel FromIntrinsics(
        int width, int height, double fx, double fy, double cx, double cy,
        DistortionModel distortion = DistortionModel.PlumbBob, IReadOnlyList<double>? d = null, string cameraName = "camera", string frameId = "camera") =>
        new(width, height, [fx, 0, cx, 0, fy, cy, 0, 0, 1], distortion,
            d ?? new double[DistortionModels.CoefficientCount(distortion)], cameraName: cameraName, frameId: frameId);

    public int Width { get; }
    public int Height { get; }
    public Size ImageSize => new(Width, Height);
    public DistortionModel Distortion { get; }
    public string CameraName { get; }
    public string FrameId { get; }
    public IReadOnlyList<double> K => k;
    public IReadOnlyList<double> D => d;
    public IReadOnlyList<double> R => r;
    public IReadOnlyList<double> P => p;
    public double Fx => k[0];
    public double Fy => k[4];
    public double Cx => k[2];
    public double Cy => k[5];

    public CameraModel WithNames(string cameraName, string frameId) => new(Width, Height, k, Distortion, d, r, p, cameraName, frameId);

    public CameraModel WithProjection(IReadOnlyList<double> projection) => new(Width, Height, k, Distortion, d, r, projection, CameraName, FrameId);

    /// <summary>
    /// The model of this image resized to <paramref name="newWidth"/>×<paramref name="newHeight"/>. Pixel centres sit at
    /// integer coordinates and cv::resize maps x' = (x + 0.5)·s − 0.5, so c' = (c + 0.5)·s − 0.5 and f' = f·s; P (its
    /// Tx = −f·baseline too) scales the same way. Distortion acts on normalised coordinates, so D is unchanged.
    /// </summary>
    public CameraModel Scale(int newWidth, int newHeight)
    {
        if (newWidth <= 0 || newHeight <= 0) throw new ArgumentOutOfRangeException(nameof(newWidth), $"new size must be positive, got {newWidth}x{newHeight}");
        double sx = (double)newWidth / Width, sy = (double)newHeight / Height;
        var k2 = ScaleRows(k, 3, sx, sy);
        var p2 = ScaleRows(p, 4, sx, sy);
        return new CameraModel(newWidth, newHeight, k2, Distortion, d, r, p2, CameraName, FrameId);

        static double[] ScaleRows(double[] m, int cols, double sx, double sy)
        {
            var o = (double[])m.Clone();
            // Row 0 is fx·X + s·Y + cx·Z (+ Tx): u scales by sx around the half-pixel origin, which shifts only the Z column.
            for (int c = 0; c < cols; c++) o[c] = m[c] * sx;
            for (int c = 0; c < cols; c++) o[cols + c] = m[cols + c] * sy;
            o[2] += 0.5 * sx - 0.5;
            o[cols + 2] += 0.5 * sy - 0.5;
            return o;
        }
    }

    /// <summary>The model of the region <paramref name="roi"/> of this image: the principal points move by −(x, y).</summary>
    public CameraModel Crop(Rect roi)
    {
        if (roi.Width <= 0 || roi.Height <= 0 || roi.X < 0 || roi.Y < 0 || roi.Right > Width || roi.Bottom > Height)
            throw new ArgumentOutOfRangeException(nameof(roi), $"ROI {roi} is not inside the {Width}x{Height} image");
        var k2 = (double[])k.Clone();
        var p2 = (double[])p.Clone();
        k2[2] -= roi.X;
        k2[5] -= roi.Y;
        p2[2] -= roi.X;
        p2[6] -= roi.Y;
        return new CameraModel(roi.Width, roi.Height, k2, Distortion, d, r, p2, CameraName, FrameId);
    }

    /// <summary>Distorted pixel → normalised image coordinates (x/z, y/z) in the camera frame, as cv::undistortPoints.</summary>
    public Point2d UndistortToNormalized(Point2d pixel) => UndistortToNormalized([pixel])[0];

    public Point2d[] UndistortToNormalized(IReadOnlyList<Point2d> pixels)
    {
        if (pixels.Count == 0) return [];
        using var src = Mat.FromArray([.. pixels]);
        using var dst = new Mat();
        using var km = CameraMatrix();
        using var dm = DistortionVector();
        if (Distortion == DistortionModel.Equidistant)
            Cv2.FishEye.UndistortPoints(src, dst, km, dm, null, null);
        else
            // The plain call stops after 5 iterations, which leaves pixels of error near the corners of wide lenses.
            Cv2.UndistortPointsIter(src, dst, km, dm, null, null, new TermCriteria(CriteriaTypes.Count | CriteriaTypes.Eps, 100, 1e-12));
        var result = new Point2d[pixels.Count];
        using var asDouble = new Mat();
        dst.ConvertTo(asDouble, MatType.CV_64FC2);
        asDouble.GetArray(out Point2d[] values);
        Array.Copy(values, result, result.Length);
        return result;
    }

    /// <summary>Distorted pixel → unit ray in the camera's optical frame (x right, y down, z forward).</summary>
    public Point3d PixelToRay(Point2d pixel)
    {
        var n = UndistortToNormalized(pixel);
        double norm = Math.Sqrt(n.X * n.X + n.Y * n.Y + 1);
        return new Point3d(n.X / norm, n.Y / norm, 1 / norm);
    }

    /// <summary>Point in the optical frame (z &gt; 0) → distorted pixel, as cv::projectPoints.</summary>
    public Point2d ProjectToPixel(Point3d point)
    {
        using var obj = Mat.FromArray(new[] { point });
        using var rvec = Mat.Zeros(3, 1, MatType.CV_64FC1).ToMat();
        using var tvec = Mat.Zeros(3, 1, MatType.CV_64FC1).ToMat();
        using var km = CameraMatrix();
        using var dm = DistortionVector();
        using var img = new Mat();
        if (Distortion == DistortionModel.Equidistant)
        {
            using var jacobian = new Mat();
            Cv2.FishEye.ProjectPoints(obj, img, rvec, tvec, km, dm, 0, jacobian);
        }
        else
            Cv2.ProjectPoints(obj, rvec, tvec, km, dm, img);
        using var asDouble = new Mat();
        img.ConvertTo(asDouble, MatType.CV_64FC2);
        asDouble.GetArray(out Point2d[] values);
        return values[0];
    }

    /// <summary>K as a new 3×3 CV_64F Mat (the caller disposes it).</summary>
    public Mat CameraMatrix() => ToMat(k, 3, 3);

    /// <summary>D as a new 1×N CV_64F Mat.</summary>
    public Mat DistortionVector() => ToMat(d, 1, d.Length);

    public Mat RectificationMatrix() => ToMat(r, 3, 3);

    public Mat ProjectionMatrix() => ToMat(p, 3, 4);

    private static Mat ToMat(double[] values, int rows, int cols)
    {
        var m = new Mat(rows, cols, MatType.CV_64FC1);
        m.SetArray(values);
        return m;
    }
}
