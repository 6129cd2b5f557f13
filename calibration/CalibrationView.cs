using OpenCvSharp;

namespace ULlava.Perception.Calibration;

/// <summary>
/// One image's detected board corners. A chessboard view has every inner corner in row-major order (as
/// FindChessboardCorners returns them) and no <paramref name="ObjectPoints"/>; a ChArUco view sees only some corners
/// and carries their board coordinates (metres, z = 0) alongside.
/// </summary>
public sealed record CalibrationView(string Name, Point2f[] Corners, Point3f[]? ObjectPoints = null);
