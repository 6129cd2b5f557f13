namespace ULlava.Perception.Calibration;

/// <summary>The calibration file formats <see cref="CameraInfoFile"/> reads and writes.</summary>
public enum CalibrationFileFormat
{
    /// <summary>ROS camera_info YAML (camera_calibration's ost.yaml).</summary>
    RosYaml,

    /// <summary>OpenCV FileStorage YAML (<c>%YAML:1.0</c>, <c>!!opencv-matrix</c>).</summary>
    OpenCvYaml,

    /// <summary>OpenCV FileStorage XML.</summary>
    OpenCvXml,
}
