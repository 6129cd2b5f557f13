using OpenCvSharp;
using OpenCvSharp.Aruco;
using ULlava.Perception.Calibration;
using Xunit.Abstractions;

namespace ULlava.Perception.Calibration.Tests;

public sealed class CharucoTests(ITestOutputHelper output)
{
    private const int PixelsPerSquare = 100, Margin = 50;
    private static readonly CharucoBoardSpec Spec = new(new Size(7, 5), 0.04, 0.03, PredefinedDictionaryType.Dict4X4_50);

    [Fact]
    public void Charuco_views_calibrate_within_half_a_percent_and_partial_views_count()
    {
        var truth = SyntheticViewsFixture.Truth;
        var board = new SyntheticBoard(truth);
        using var detector = new CharucoViewDetector(Spec);
        using var texture = detector.GenerateImage(new Size(7 * PixelsPerSquare + 2 * Margin, 5 * PixelsPerSquare + 2 * Margin), Margin);
        double m = Margin / (double)PixelsPerSquare * Spec.SquareSize;
        var poses = board.Poses(15, seed: 5, extent: (-m, -m, 7 * Spec.SquareSize + m, 5 * Spec.SquareSize + m));
        var views = new List<CalibrationView>();
        Mat? first = null;
        string dir = Directory.CreateTempSubdirectory("ullava-charuco-").FullName;
        foreach (var (pose, i) in poses.Select((p, i) => (p, i)))
        {
            using var image = board.Render(pose.R, pose.T, texture, PixelsPerSquare, Margin, Spec.SquareSize);
            Cv2.ImWrite(Path.Combine(dir, $"view{i:D2}.png"), image);
            var view = detector.Detect(image, $"view{i:D2}");
            if (view is not null) views.Add(view);
            first ??= image.Clone();
        }
        Assert.True(views.Count >= 13, $"ChArUco found in {views.Count} of 15 views");
        Assert.All(views, v => Assert.Equal(24, v.Corners.Length));

        var result = ChessboardCalibrator.Calibrate(views, new Size(640, 480), Spec.InnerCorners, Spec.SquareSize);
        output.WriteLine(ChessboardCalibrator.FormatReport(result));
        ChessboardCalibratorTests.AssertIntrinsics(result.Camera, 0.005);
        Assert.True(result.Rms < 0.2, $"RMS {result.Rms} px");

        // The calibrate entry point on the same images, told the board by its options.
        try
        {
            string outPath = Path.Combine(dir, "charuco.yaml");
            var options = CalibrateOptions.Parse(["--images", dir, "--charuco", "7x5", "--square", "0.04", "--marker", "0.03", "--dict", "4X4_50", "--out", outPath]);
            var run = CalibrateCommandRunner.Run(options, TextWriter.Null);
            Assert.Equal(views.Count, run.BoardsFound);
            ChessboardCalibratorTests.AssertIntrinsics(CameraInfoFile.Read(outPath), 0.005);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        // Half the board hidden: still a view, with fewer corners and their right board coordinates.
        using (first)
        {
            using var half = first!.Clone();
            var full = detector.Detect(half, "full")!;
            double midX = full.Corners.Average(c => c.X);
            half[new Rect(0, 0, (int)midX, half.Height)].SetTo(Scalar.All(90));
            var partial = detector.Detect(half, "partial");
            Assert.NotNull(partial);
            Assert.InRange(partial.Corners.Length, CharucoViewDetector.MinCorners, 23);
            foreach (var (corner, point) in partial.Corners.Zip(partial.ObjectPoints!))
            {
                int k = Array.FindIndex(full.ObjectPoints!, p => p == point);
                Assert.True(k >= 0);
                Assert.True(Math.Abs(full.Corners[k].X - corner.X) < 0.5 && Math.Abs(full.Corners[k].Y - corner.Y) < 0.5);
            }
        }
    }

    [Fact]
    public void Dictionary_names_parse_as_opencv_writes_them()
    {
        Assert.Equal(PredefinedDictionaryType.Dict4X4_50, CharucoBoardSpec.ParseDictionary("4X4_50"));
        Assert.Equal(PredefinedDictionaryType.Dict6X6_250, CharucoBoardSpec.ParseDictionary("DICT_6X6_250"));
        Assert.Throws<ArgumentException>(() => CharucoBoardSpec.ParseDictionary("7X7_9"));
    }
}
