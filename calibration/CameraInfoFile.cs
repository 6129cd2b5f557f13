namespace ULlava.Perception.Calibration;

/// <summary>Reads any supported calibration file, telling the formats apart by extension and header.</summary>
public static class CameraInfoFile
{
    /// <summary>.xml → OpenCV XML; YAML starting with <c>%YAML:1.0</c> or holding <c>!!opencv-matrix</c> → OpenCV; other YAML → ROS.</summary>
    public static CalibrationFileFormat Detect(string path)
    {
        if (Path.GetExtension(path).Equals(".xml", StringComparison.OrdinalIgnoreCase)) return CalibrationFileFormat.OpenCvXml;
        if (!File.Exists(path)) throw new FileNotFoundException($"calibration file not found: {path}", path);
        string text = File.ReadAllText(path);
        if (text.TrimStart().StartsWith("<?xml", StringComparison.Ordinal)) return CalibrationFileFormat.OpenCvXml;
        return text.TrimStart().StartsWith("%YAML:", StringComparison.Ordinal) || text.Contains("!!opencv-matrix", StringComparison.Ordinal)
            ? CalibrationFileFormat.OpenCvYaml
            : CalibrationFileFormat.RosYaml;
    }

    public static CameraModel Read(string path) => Detect(path) == CalibrationFileFormat.RosYaml
        ? RosCameraInfoYaml.Read(path)
        : OpenCvCalibrationFile.Read(path);

    public static void Write(string path, CameraModel camera, CalibrationFileFormat format)
    {
        switch (format)
        {
            case CalibrationFileFormat.RosYaml:
                RosCameraInfoYaml.Write(path, camera);
                break;
            case CalibrationFileFormat.OpenCvYaml or CalibrationFileFormat.OpenCvXml:
                string ext = Path.GetExtension(path).ToLowerInvariant();
                bool xml = format == CalibrationFileFormat.OpenCvXml;
                if (xml != (ext == ".xml"))
                    throw new ArgumentException($"{path}: OpenCV picks its format from the extension; use {(xml ? ".xml" : ".yaml")} for {format}", nameof(path));
                OpenCvCalibrationFile.Write(path, camera);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, null);
        }
    }
}
