using OpenCvSharp;

namespace ULlava.Perception.Calibration;

/// <summary>
/// The outcome of <see cref="ChessboardCalibrator.Calibrate"/>: the camera, the RMS reprojection error over the views
/// kept, every view's error (rejected ones with their error when they were rejected) and the rejection threshold.
/// </summary>
public sealed record CalibrationResult(
    CameraModel Camera,
    double Rms,
    IReadOnlyList<ViewReport> Views,
    Size BoardSize,
    double SquareSize,
    double RejectThreshold)
{
    public int UsedViews => Views.Count(v => !v.Rejected);
    public int RejectedViews => Views.Count(v => v.Rejected);
}
