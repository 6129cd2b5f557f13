namespace ULlava.Perception.Calibration;

/// <summary>A view's RMS reprojection error in pixels, and whether it was left out of the final calibration.</summary>
public sealed record ViewReport(string Name, double ReprojectionError, bool Rejected);
