using OpenCvSharp;

namespace ULlava.Perception.Calibration;

/// <summary>One image's detected board corners, in the board's row-major order (as FindChessboardCorners returns them).</summary>
public sealed record CalibrationView(string Name, Point2f[] Corners);
