using System.Globalization;
using System.Text;
using OpenCvSharp;

namespace ULlava.Perception.Calibration;

/// <summary>
/// Chessboard camera calibration as ROS camera_calibration does it: detect the inner corners, refine them to
/// sub-pixel, cv::calibrateCamera (or cv::fisheye::calibrate), then drop views whose reprojection error is far above
/// the median and calibrate again.
/// </summary>
public static class ChessboardCalibrator
{
    /// <summary>Fewer views than this cannot constrain K and D.</summary>
    public const int MinViews = 3;

    /// <summary>A view is never rejected below this error: a few tenths of a pixel is a good view, whatever the median.</summary>
    public const double MinRejectErrorPx = 0.5;

    /// <summary>
    /// The inner corners of a board with <paramref name="innerCorners"/> (columns × rows) in the image, or null.
    /// The classic detector plus cornerSubPix first; the sector-based detector (accurate by itself) when that fails.
    /// </summary>
    public static Point2f[]? DetectChessboard(Mat image, Size innerCorners)
    {
        using var gray = ToGray(image);
        int n = innerCorners.Width * innerCorners.Height;
        // No FastCheck: it turned away small, strongly distorted boards that the full search finds (the fisheye test).
        if (Cv2.FindChessboardCorners(gray, innerCorners, out var corners, ChessboardFlags.AdaptiveThresh | ChessboardFlags.NormalizeImage)
            && corners.Length == n)
        {
            // Half the smallest corner spacing: a larger window would reach the neighbouring corners.
            int radius = Math.Clamp((int)Math.Ceiling(0.5 * MinSpacing(corners, innerCorners)), 2, 11);
            return Cv2.CornerSubPix(gray, corners, new Size(radius, radius), new Size(-1, -1),
                new TermCriteria(CriteriaTypes.Count | CriteriaTypes.Eps, 40, 0.001));
        }
        if (Cv2.FindChessboardCornersSB(gray, innerCorners, out corners, ChessboardFlags.NormalizeImage | ChessboardFlags.Exhaustive | ChessboardFlags.Accuracy)
            && corners.Length == n)
            return corners;
        return null;
    }

    /// <summary>The board's inner corners in its own plane (z = 0), row-major, <paramref name="squareSize"/> metres apart.</summary>
    public static Point3f[] BoardPoints(Size innerCorners, double squareSize)
    {
        var points = new Point3f[innerCorners.Width * innerCorners.Height];
        for (int row = 0; row < innerCorners.Height; row++)
            for (int col = 0; col < innerCorners.Width; col++)
                points[row * innerCorners.Width + col] = new Point3f((float)(col * squareSize), (float)(row * squareSize), 0);
        return points;
    }

    /// <summary>
    /// Calibrates from detected views. Views whose error exceeds max(<paramref name="rejectFactor"/> × median,
    /// <see cref="MinRejectErrorPx"/>) are dropped and the rest calibrated again, until none is dropped.
    /// P is the new camera matrix of an undistorted image with only valid pixels (alpha 0, as ROS).
    /// </summary>
    public static CalibrationResult Calibrate(
        IReadOnlyList<CalibrationView> views, Size imageSize, Size innerCorners, double squareSize,
        DistortionModel model = DistortionModel.PlumbBob, double rejectFactor = 3.0, string cameraName = "camera", string frameId = "camera")
    {
        if (squareSize <= 0) throw new ArgumentOutOfRangeException(nameof(squareSize), "the square size must be positive (metres)");
        int n = innerCorners.Width * innerCorners.Height;
        foreach (var v in views)
        {
            if (v.ObjectPoints is null && v.Corners.Length != n)
                throw new ArgumentException($"view {v.Name} has {v.Corners.Length} corners, the {innerCorners.Width}x{innerCorners.Height} board has {n}", nameof(views));
            if (v.ObjectPoints is not null && v.ObjectPoints.Length != v.Corners.Length)
                throw new ArgumentException($"view {v.Name} has {v.Corners.Length} corners but {v.ObjectPoints.Length} board points", nameof(views));
        }
        var board = BoardPoints(innerCorners, squareSize);
        var active = views.ToList();
        // By reference: two views may carry the same name (or even equal corners) and must still be told apart.
        var rejected = new Dictionary<CalibrationView, ViewReport>(ReferenceEqualityComparer.Instance);
        double threshold;
        while (true)
        {
            if (active.Count < MinViews)
                throw new InvalidOperationException($"only {active.Count} usable views of the board; calibration needs at least {MinViews} (15 or more, varied in tilt and position, recommended)");
            var fit = Fit(active, board, imageSize, model);
            double median = Median(fit.Errors);
            threshold = Math.Max(rejectFactor * median, MinRejectErrorPx);
            var bad = Enumerable.Range(0, active.Count).Where(i => fit.Errors[i] > threshold).ToList();
            // Stop rather than reject down below MinViews: then the views disagree too much to tell which are bad.
            if (bad.Count == 0 || active.Count - bad.Count < MinViews)
            {
                var camera = new CameraModel(imageSize.Width, imageSize.Height, fit.K, model, fit.D,
                    p: NewProjection(fit.K, fit.D, model, imageSize), cameraName: cameraName, frameId: frameId);
                var reports = views.Select(v => rejected.TryGetValue(v, out var r)
                    ? r
                    : new ViewReport(v.Name, fit.Errors[active.FindIndex(a => ReferenceEquals(a, v))], false)).ToList();
                return new CalibrationResult(camera, fit.Rms, reports, innerCorners, squareSize, threshold);
            }
            foreach (int i in bad) rejected[active[i]] = new ViewReport(active[i].Name, fit.Errors[i], true);
            active = active.Where((_, i) => !bad.Contains(i)).ToList();
        }
    }

    /// <summary>A printable report: the intrinsics, the overall RMS and every view's error.</summary>
    public static string FormatReport(CalibrationResult result)
    {
        var c = result.Camera;
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(ci, $"camera {c.CameraName}: {c.Width}x{c.Height}, board {result.BoardSize.Width}x{result.BoardSize.Height} inner corners, square {result.SquareSize:0.####} m");
        sb.AppendLine(ci, $"views: {result.UsedViews} used, {result.RejectedViews} rejected (error above {result.RejectThreshold:0.###} px)");
        sb.AppendLine(ci, $"RMS reprojection error: {result.Rms:0.####} px");
        sb.AppendLine(ci, $"fx {c.Fx:0.###}  fy {c.Fy:0.###}  cx {c.Cx:0.###}  cy {c.Cy:0.###}");
        sb.AppendLine(ci, $"D ({DistortionModels.RosName(c.Distortion)}): [{string.Join(", ", c.D.Select(d => d.ToString("0.######", ci)))}]");
        sb.AppendLine("per view (RMS px):");
        int width = result.Views.Count == 0 ? 0 : result.Views.Max(v => v.Name.Length);
        foreach (var v in result.Views)
            sb.AppendLine(ci, $"  {v.Name.PadRight(width)}  {v.ReprojectionError,8:0.0000}{(v.Rejected ? "  rejected" : "")}");
        return sb.ToString();
    }

    /// <summary>The image and its undistorted version side by side, for a person to check straight lines.</summary>
    public static Mat RenderUndistortedPreview(Mat image, CameraModel camera)
    {
        using var undistorter = new ImageUndistorter(camera);
        using var color = image.Channels() == 1 ? image.CvtColor(ColorConversionCodes.GRAY2BGR) : image.Clone();
        using var undistorted = undistorter.Undistort(color);
        Cv2.PutText(color, "original", new Point(10, 30), HersheyFonts.HersheySimplex, 0.8, Scalar.Yellow, 2);
        Cv2.PutText(undistorted, "undistorted", new Point(10, 30), HersheyFonts.HersheySimplex, 0.8, Scalar.Yellow, 2);
        var preview = new Mat();
        Cv2.HConcat([color, undistorted], preview);
        return preview;
    }

    private sealed record FitResult(double[] K, double[] D, double Rms, double[] Errors);

    private static FitResult Fit(List<CalibrationView> views, Point3f[] board, Size imageSize, DistortionModel model) =>
        model == DistortionModel.Equidistant ? FitFisheye(views, board, imageSize) : FitPinhole(views, board, imageSize, model);

    private static FitResult FitPinhole(List<CalibrationView> views, Point3f[] board, Size imageSize, DistortionModel model)
    {
        var k = new double[3, 3];
        var d = new double[DistortionModels.CoefficientCount(model)];
        var flags = model == DistortionModel.RationalPolynomial ? CalibrationFlags.RationalModel : CalibrationFlags.None;
        double rms = Cv2.CalibrateCamera(views.Select(v => (IEnumerable<Point3f>)(v.ObjectPoints ?? board)), views.Select(v => (IEnumerable<Point2f>)v.Corners),
            imageSize, k, d, out var rvecs, out var tvecs, flags, new TermCriteria(CriteriaTypes.Count | CriteriaTypes.Eps, 100, 1e-12));
        var errors = new double[views.Count];
        for (int i = 0; i < views.Count; i++)
        {
            Cv2.ProjectPoints(views[i].ObjectPoints ?? board, [rvecs[i].Item0, rvecs[i].Item1, rvecs[i].Item2], [tvecs[i].Item0, tvecs[i].Item1, tvecs[i].Item2],
                k, d, out var projected, out _);
            errors[i] = RmsDistance(projected, views[i].Corners);
        }
        return new FitResult(Flatten(k), d, rms, errors);
    }

    private static FitResult FitFisheye(List<CalibrationView> views, Point3f[] board, Size imageSize)
    {
        var objects = views.Select(v => (Mat)Mat.FromArray((v.ObjectPoints ?? board).Select(p => new Point3d(p.X, p.Y, p.Z)).ToArray())).ToList();
        var images = views.Select(v => (Mat)Mat.FromArray(v.Corners.Select(c => new Point2d(c.X, c.Y)).ToArray())).ToList();
        using var k = new Mat(3, 3, MatType.CV_64FC1, Scalar.All(0));
        using var d = new Mat(4, 1, MatType.CV_64FC1, Scalar.All(0));
        try
        {
            double rms = Cv2.FishEye.Calibrate(objects, images, imageSize, k, d, out var rvecs, out var tvecs,
                FishEyeCalibrationFlags.RecomputeExtrinsic | FishEyeCalibrationFlags.FixSkew,
                new TermCriteria(CriteriaTypes.Count | CriteriaTypes.Eps, 100, 1e-12));
            var rv = rvecs.ToList();
            var tv = tvecs.ToList();
            var errors = new double[views.Count];
            for (int i = 0; i < views.Count; i++)
            {
                using var projected = new Mat();
                using var jacobian = new Mat();
                Cv2.FishEye.ProjectPoints(objects[i], projected, rv[i], tv[i], k, d, 0, jacobian);
                using var asFloat = new Mat();
                projected.ConvertTo(asFloat, MatType.CV_32FC2);
                asFloat.GetArray(out Point2f[] pts);
                errors[i] = RmsDistance(pts, views[i].Corners);
            }
            foreach (var m in rv.Concat(tv)) m.Dispose();
            k.GetArray(out double[] kValues);
            d.GetArray(out double[] dValues);
            return new FitResult(kValues, dValues, rms, errors);
        }
        finally
        {
            foreach (var m in objects.Concat(images)) m.Dispose();
        }
    }

    private static double[] NewProjection(double[] k, double[] d, DistortionModel model, Size imageSize)
    {
        double[] newK;
        if (model == DistortionModel.Equidistant)
        {
            using var km = Mat.FromPixelData(3, 3, MatType.CV_64FC1, k).Clone();
            using var dm = Mat.FromPixelData(1, 4, MatType.CV_64FC1, d).Clone();
            using var eye = Mat.Eye(3, 3, MatType.CV_64FC1).ToMat();
            using var p = new Mat();
            Cv2.FishEye.EstimateNewCameraMatrixForUndistortRectify(km, dm, imageSize, eye, p, 0, imageSize, 1);
            p.GetArray(out newK);
        }
        else
        {
            var k2 = new double[3, 3];
            for (int i = 0; i < 9; i++) k2[i / 3, i % 3] = k[i];
            newK = Flatten(Cv2.GetOptimalNewCameraMatrix(k2, d, imageSize, 0, imageSize, out _, false)
                ?? throw new InvalidOperationException("getOptimalNewCameraMatrix returned nothing"));
        }
        return [newK[0], newK[1], newK[2], 0, newK[3], newK[4], newK[5], 0, newK[6], newK[7], newK[8], 0];
    }

    private static double[] Flatten(double[,] m) => [m[0, 0], m[0, 1], m[0, 2], m[1, 0], m[1, 1], m[1, 2], m[2, 0], m[2, 1], m[2, 2]];

    private static double RmsDistance(Point2f[] a, Point2f[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double dx = a[i].X - b[i].X, dy = a[i].Y - b[i].Y;
            sum += dx * dx + dy * dy;
        }
        return Math.Sqrt(sum / a.Length);
    }

    private static double Median(double[] values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
    }

    private static double MinSpacing(Point2f[] corners, Size innerCorners)
    {
        double min = double.MaxValue;
        for (int row = 0; row < innerCorners.Height; row++)
            for (int col = 0; col + 1 < innerCorners.Width; col++)
            {
                var a = corners[row * innerCorners.Width + col];
                var b = corners[row * innerCorners.Width + col + 1];
                min = Math.Min(min, Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y)));
            }
        return min;
    }

    private static Mat ToGray(Mat image) => image.Channels() switch
    {
        1 => image.Clone(),
        3 => image.CvtColor(ColorConversionCodes.BGR2GRAY),
        4 => image.CvtColor(ColorConversionCodes.BGRA2GRAY),
        _ => throw new ArgumentException($"expected a 1, 3 or 4 channel image, got {image.Channels()}", nameof(image)),
    };
}
