namespace ULlava.Perception.Calibration;

/// <summary>What <see cref="CalibrateCommandRunner.Run"/> did: the calibration, its printed report and the files it wrote.</summary>
public sealed record CalibrateRun(CalibrationResult Result, string Report, string CameraFile, string PreviewFile, int ImagesRead, int BoardsFound);
