namespace ULlava.Perception.Calibration;

/// <summary>ROS names and coefficient counts of each <see cref="DistortionModel"/>.</summary>
public static class DistortionModels
{
    public static string RosName(DistortionModel model) => model switch
    {
        DistortionModel.PlumbBob => "plumb_bob",
        DistortionModel.RationalPolynomial => "rational_polynomial",
        DistortionModel.Equidistant => "equidistant",
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, null),
    };

    public static int CoefficientCount(DistortionModel model) => model switch
    {
        DistortionModel.PlumbBob => 5,
        DistortionModel.RationalPolynomial => 8,
        DistortionModel.Equidistant => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, null),
    };

    /// <summary>ROS name → model; "fisheye" is accepted as well because some drivers write it for equidistant.</summary>
    public static bool TryParse(string name, out DistortionModel model)
    {
        switch (name.Trim())
        {
            case "plumb_bob": model = DistortionModel.PlumbBob; return true;
            case "rational_polynomial": model = DistortionModel.RationalPolynomial; return true;
            case "equidistant" or "fisheye": model = DistortionModel.Equidistant; return true;
            default: model = default; return false;
        }
    }

    public static DistortionModel Parse(string name) => TryParse(name, out var model)
        ? model
        : throw new ArgumentException($"unknown distortion model '{name}' (expected plumb_bob, rational_polynomial or equidistant)", nameof(name));
}
