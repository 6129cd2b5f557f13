using OpenCvSharp;
using ULlava.Perception.Calibration;
using Xunit.Abstractions;

namespace ULlava.Perception.Calibration.Tests;

public sealed class FisheyeCalibrationTests(ITestOutputHelper output)
{
    [Fact]
    public void Equidistant_calibration_recovers_the_intrinsics_within_half_a_percent()
    {
        var truth = new CameraModel(640, 480, [300, 0, 322, 0, 302, 236, 0, 0, 1], DistortionModel.Equidistant, [-0.03, 0.01, -0.004, 0.001]);
        var board = new SyntheticBoard(truth);
        var views = new List<CalibrationView>();
        foreach (var (pose, i) in board.Poses(15, seed: 11).Select((p, i) => (p, i)))
        {
            using var image = board.Render(pose.R, pose.T);
            var corners = ChessboardCalibrator.DetectChessboard(image, SyntheticBoard.Pattern);
            if (corners is not null) views.Add(new CalibrationView($"view{i:D2}", corners));
        }
        Assert.True(views.Count >= 13, $"only {views.Count} of 15 fisheye views detected");

        var result = ChessboardCalibrator.Calibrate(views, new Size(640, 480), SyntheticBoard.Pattern, SyntheticBoard.Square, DistortionModel.Equidistant);
        output.WriteLine(ChessboardCalibrator.FormatReport(result));
        var c = result.Camera;
        output.WriteLine($"error %: fx {ChessboardCalibratorTests.Pct(c.Fx, truth.Fx):0.0000} fy {ChessboardCalibratorTests.Pct(c.Fy, truth.Fy):0.0000} " +
            $"cx {ChessboardCalibratorTests.Pct(c.Cx, truth.Cx):0.0000} cy {ChessboardCalibratorTests.Pct(c.Cy, truth.Cy):0.0000}");

        Assert.Equal(DistortionModel.Equidistant, c.Distortion);
        Assert.InRange(c.Fx, truth.Fx * 0.995, truth.Fx * 1.005);
        Assert.InRange(c.Fy, truth.Fy * 0.995, truth.Fy * 1.005);
        Assert.InRange(c.Cx, truth.Cx * 0.995, truth.Cx * 1.005);
        Assert.InRange(c.Cy, truth.Cy * 0.995, truth.Cy * 1.005);
        Assert.True(result.Rms < 0.2, $"RMS {result.Rms} px");
    }
}
