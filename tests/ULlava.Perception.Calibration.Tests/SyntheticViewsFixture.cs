using OpenCvSharp;
using ULlava.Perception.Calibration;

namespace ULlava.Perception.Calibration.Tests;

/// <summary>Fifteen rendered views of the board through a known plumb_bob camera, and their detected corners, made once per test class.</summary>
public sealed class SyntheticViewsFixture : IDisposable
{
    public static readonly CameraModel Truth = new(640, 480, [520, 0, 318.5, 0, 525, 243.2, 0, 0, 1], DistortionModel.PlumbBob,
        [-0.28, 0.09, 0.0008, -0.0005, -0.01]);

    public SyntheticViewsFixture()
    {
        Board = new SyntheticBoard(Truth);
        Poses = Board.Poses(15, seed: 7);
        Images = Poses.Select(p => Board.Render(p.R, p.T)).ToList();
        Views = Images.Select((image, i) => (Name: $"view{i:D2}", Corners: ChessboardCalibrator.DetectChessboard(image, SyntheticBoard.Pattern)))
            .Where(v => v.Corners is not null)
            .Select(v => new CalibrationView(v.Name, v.Corners!))
            .ToList();
    }

    public SyntheticBoard Board { get; }
    public List<(Vec3d R, Vec3d T)> Poses { get; }
    public List<Mat> Images { get; }
    public List<CalibrationView> Views { get; }

    public void Dispose()
    {
        foreach (var image in Images) image.Dispose();
    }
}
