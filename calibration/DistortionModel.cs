namespace ULlava.Perception.Calibration;

/// <summary>The lens models ROS's CameraInfo names; <see cref="DistortionModels"/> maps them to and from those names.</summary>
public enum DistortionModel
{
    /// <summary>Brown–Conrady, D = (k1, k2, p1, p2, k3): OpenCV's default model.</summary>
    PlumbBob,

    /// <summary>D = (k1, k2, p1, p2, k3, k4, k5, k6): OpenCV's CALIB_RATIONAL_MODEL, for wide lenses.</summary>
    RationalPolynomial,

    /// <summary>Equidistant fisheye, D = (k1, k2, k3, k4): OpenCV's cv::fisheye model.</summary>
    Equidistant,
}
