using OpenCvSharp;
using ULlava.Perception.Calibration;
using Xunit.Abstractions;

namespace ULlava.Perception.Calibration.Tests;

[Collection(SyntheticViewsCollection.Name)]
public sealed class ChessboardCalibratorTests(SyntheticViewsFixture views, ITestOutputHelper output)
{
    private static readonly CameraModel Truth = SyntheticViewsFixture.Truth;

    [Fact]
    public void Every_rendered_view_is_detected()
    {
        Assert.Equal(15, views.Poses.Count);
        Assert.Equal(15, views.Views.Count);
    }

    [Fact]
    public void Calibration_recovers_the_intrinsics_within_half_a_percent()
    {
        var result = ChessboardCalibrator.Calibrate(views.Views, new Size(640, 480), SyntheticBoard.Pattern, SyntheticBoard.Square);
        output.WriteLine(ChessboardCalibrator.FormatReport(result));
        LogErrors(result.Camera);
        AssertIntrinsics(result.Camera, 0.005);
        Assert.True(result.Rms < 0.2, $"RMS {result.Rms} px");
        Assert.Equal(0, result.RejectedViews);
        // The distortion is recovered too: k1 within 2 % (k2, k3 trade off against each other).
        Assert.InRange(result.Camera.D[0], Truth.D[0] * 1.02, Truth.D[0] * 0.98);
    }

    [Fact]
    public void A_view_with_corrupted_corners_is_rejected_and_the_rest_recalibrated()
    {
        var random = new Random(3);
        var corrupted = views.Views.Select((v, i) => i != 4 ? v : v with
        {
            Name = "noisy",
            Corners = v.Corners.Select(c => new Point2f(c.X + (float)Gaussian(random, 2.0), c.Y + (float)Gaussian(random, 2.0))).ToArray(),
        }).ToList();

        var result = ChessboardCalibrator.Calibrate(corrupted, new Size(640, 480), SyntheticBoard.Pattern, SyntheticBoard.Square);
        output.WriteLine(ChessboardCalibrator.FormatReport(result));

        var rejected = Assert.Single(result.Views, v => v.Rejected);
        Assert.Equal("noisy", rejected.Name);
        Assert.True(rejected.ReprojectionError > result.RejectThreshold);
        Assert.Equal(14, result.UsedViews);
        AssertIntrinsics(result.Camera, 0.005);
        Assert.True(result.Rms < 0.2, $"RMS {result.Rms} px");
        Assert.Contains("noisy", ChessboardCalibrator.FormatReport(result).Split('\n').Single(l => l.Contains("rejected") && l.Contains("noisy")));
    }

    [Fact]
    public void Too_few_views_is_an_error_that_says_so()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            ChessboardCalibrator.Calibrate(views.Views.Take(2).ToList(), new Size(640, 480), SyntheticBoard.Pattern, SyntheticBoard.Square));
        Assert.Contains("only 2 usable views", e.Message);
    }

    [Fact]
    public void Undistorted_image_makes_the_board_a_plane_projection_again()
    {
        // A straight-line check: after undistortion the corners fit a homography of the flat board; before, they do not.
        using var undistorter = new ImageUndistorter(Truth);
        var board = ChessboardCalibrator.BoardPoints(SyntheticBoard.Pattern, SyntheticBoard.Square);
        int index = Enumerable.Range(0, views.Images.Count).MaxBy(i => HomographyError(board, views.Views[i].Corners));
        using var undistorted = undistorter.Undistort(views.Images[index]);
        var corners = ChessboardCalibrator.DetectChessboard(undistorted, SyntheticBoard.Pattern);
        Assert.NotNull(corners);
        double before = HomographyError(board, views.Views[index].Corners);
        double after = HomographyError(board, corners);
        output.WriteLine($"homography RMS before {before:0.###} px, after {after:0.###} px");
        Assert.True(before > 0.5, $"the distorted view should bend the grid, RMS {before}");
        Assert.True(after < 0.15, $"the undistorted grid should be a homography, RMS {after}");
    }

    private void LogErrors(CameraModel c) => output.WriteLine(
        $"error %: fx {Pct(c.Fx, Truth.Fx):0.0000} fy {Pct(c.Fy, Truth.Fy):0.0000} cx {Pct(c.Cx, Truth.Cx):0.0000} cy {Pct(c.Cy, Truth.Cy):0.0000}");

    internal static double Pct(double value, double truth) => 100 * Math.Abs(value - truth) / truth;

    internal static void AssertIntrinsics(CameraModel c, double tolerance)
    {
        Assert.InRange(c.Fx, Truth.Fx * (1 - tolerance), Truth.Fx * (1 + tolerance));
        Assert.InRange(c.Fy, Truth.Fy * (1 - tolerance), Truth.Fy * (1 + tolerance));
        Assert.InRange(c.Cx, Truth.Cx * (1 - tolerance), Truth.Cx * (1 + tolerance));
        Assert.InRange(c.Cy, Truth.Cy * (1 - tolerance), Truth.Cy * (1 + tolerance));
    }

    private static double HomographyError(Point3f[] board, Point2f[] corners)
    {
        var src = board.Select(p => new Point2d(p.X, p.Y)).ToArray();
        var dst = corners.Select(p => new Point2d(p.X, p.Y)).ToArray();
        using var h = Cv2.FindHomography(src, dst);
        h.GetArray(out double[] m);
        double sum = 0;
        for (int i = 0; i < src.Length; i++)
        {
            double w = m[6] * src[i].X + m[7] * src[i].Y + m[8];
            double dx = (m[0] * src[i].X + m[1] * src[i].Y + m[2]) / w - dst[i].X;
            double dy = (m[3] * src[i].X + m[4] * src[i].Y + m[5]) / w - dst[i].Y;
            sum += dx * dx + dy * dy;
        }
        return Math.Sqrt(sum / src.Length);
    }

    private static double Gaussian(Random random, double sigma) =>
        sigma * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
