using OpenCvSharp;

namespace ULlava.Perception.Calibration;

/// <summary>
/// OpenCV FileStorage calibration files (<c>%YAML:1.0</c> with <c>!!opencv-matrix</c>, or XML), written and read by
/// OpenCV's own FileStorage so other OpenCV programs read them unchanged. Keys follow OpenCV's calibration sample
/// (image_width, image_height, camera_matrix, distortion_coefficients) plus the ROS fields distortion_model,
/// camera_name, frame_id, rectification_matrix and projection_matrix.
/// </summary>
public static class OpenCvCalibrationFile
{
    /// <summary>Writes YAML or XML as the extension says (.yaml, .yml, .xml; OpenCV picks the format from it).</summary>
    public static void Write(string path, CameraModel camera)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is not (".yaml" or ".yml" or ".xml"))
            throw new ArgumentException($"{path}: OpenCV calibration files end in .yaml, .yml or .xml", nameof(path));
        using var fs = new FileStorage(path, FileStorage.Modes.Write);
        if (!fs.IsOpened()) throw new IOException($"{path}: cannot be written");
        fs.Write("image_width", camera.Width);
        fs.Write("image_height", camera.Height);
        fs.Write("camera_name", camera.CameraName);
        fs.Write("frame_id", camera.FrameId);
        using (var k = camera.CameraMatrix()) fs.Write("camera_matrix", k);
        fs.Write("distortion_model", DistortionModels.RosName(camera.Distortion));
        using (var d = camera.DistortionVector()) fs.Write("distortion_coefficients", d);
        using (var r = camera.RectificationMatrix()) fs.Write("rectification_matrix", r);
        using (var p = camera.ProjectionMatrix()) fs.Write("projection_matrix", p);
        fs.Release();
    }

    public static CameraModel Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"calibration file not found: {path}", path);
        FileStorage fs;
        try
        {
            fs = new FileStorage(path, FileStorage.Modes.Read);
        }
        catch (OpenCVException e)
        {
            throw new CalibrationFileException(path, "(document)", $"OpenCV cannot parse it: {e.Message}");
        }
        using (fs)
        {
            if (!fs.IsOpened()) throw new CalibrationFileException(path, "(document)", "OpenCV cannot open it");
            int width = ReadInt(fs, path, "image_width");
            int height = ReadInt(fs, path, "image_height");
            var k = ReadMatrix(fs, path, "camera_matrix", 3, 3) ?? throw new CalibrationFileException(path, "camera_matrix", "missing");
            var d = ReadMatrix(fs, path, "distortion_coefficients", -1, -1) ?? throw new CalibrationFileException(path, "distortion_coefficients", "missing");
            var model = ReadModel(fs, path, d.Length);
            // OpenCV's own sample writes 4 coefficients for (k1, k2, p1, p2); plumb_bob's k3 is then 0.
            if (model == DistortionModel.PlumbBob && d.Length == 4) d = [.. d, 0];
            int expected = DistortionModels.CoefficientCount(model);
            if (d.Length != expected)
                throw new CalibrationFileException(path, "distortion_coefficients", $"{DistortionModels.RosName(model)} needs {expected} values, got {d.Length}");
            var r = ReadMatrix(fs, path, "rectification_matrix", 3, 3);
            var p = ReadMatrix(fs, path, "projection_matrix", 3, 4);
            string name = ReadString(fs, "camera_name") ?? "camera";
            string frameId = ReadString(fs, "frame_id") ?? "camera";
            try
            {
                return new CameraModel(width, height, k, model, d, r, p, name, frameId);
            }
            catch (ArgumentException e)
            {
                throw new CalibrationFileException(path, "camera_matrix", e.Message);
            }
        }
    }

    /// <summary>distortion_model when present; otherwise guessed from the count (OpenCV's sample writes none).</summary>
    private static DistortionModel ReadModel(FileStorage fs, string path, int count)
    {
        string? name = ReadString(fs, "distortion_model");
        if (name is not null)
            return DistortionModels.TryParse(name, out var m)
                ? m
                : throw new CalibrationFileException(path, "distortion_model", $"unknown distortion model '{name}' (expected plumb_bob, rational_polynomial or equidistant)");
        var fisheye = Node(fs, "fisheye_model");
        if (fisheye is not null && fisheye.IsInt && fisheye.ReadInt() != 0) return DistortionModel.Equidistant;
        return count switch
        {
            4 or 5 => DistortionModel.PlumbBob,
            8 => DistortionModel.RationalPolynomial,
            _ => throw new CalibrationFileException(path, "distortion_coefficients", $"{count} coefficients and no distortion_model: expected 5 (plumb_bob) or 8 (rational_polynomial)"),
        };
    }

    private static FileNode? Node(FileStorage fs, string key)
    {
        var node = fs[key];
        return node is null || node.IsNone ? null : node;
    }

    private static string? ReadString(FileStorage fs, string key)
    {
        var node = Node(fs, key);
        return node is not null && node.IsString ? node.ReadString() : null;
    }

    private static int ReadInt(FileStorage fs, string path, string key)
    {
        var node = Node(fs, key) ?? throw new CalibrationFileException(path, key, "missing");
        return node.IsInt ? node.ReadInt() : throw new CalibrationFileException(path, key, "not an integer");
    }

    /// <summary>An !!opencv-matrix of the expected shape (rows = -1: a vector of any length, either orientation).</summary>
    private static double[]? ReadMatrix(FileStorage fs, string path, string key, int rows, int cols)
    {
        var node = Node(fs, key);
        if (node is null) return null;
        using var m = node.ReadMat();
        if (m.Empty() || m.Channels() != 1)
            throw new CalibrationFileException(path, key, "not a single-channel opencv-matrix");
        if (rows < 0 ? m.Rows != 1 && m.Cols != 1 : m.Rows != rows || m.Cols != cols)
            throw new CalibrationFileException(path, key, rows < 0 ? $"expected a vector, got {m.Rows}x{m.Cols}" : $"expected {rows}x{cols}, the file says {m.Rows}x{m.Cols}");
        using var asDouble = new Mat();
        m.ConvertTo(asDouble, MatType.CV_64FC1);
        var values = new double[m.Rows * m.Cols];
        using var flat = asDouble.Reshape(1, 1);
        flat.GetArray(out double[] data);
        Array.Copy(data, values, values.Length);
        return values;
    }
}
