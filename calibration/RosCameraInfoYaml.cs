using System.Globalization;
using System.Text;
using YamlDotNet.RepresentationModel;

namespace ULlava.Perception.Calibration;

/// <summary>
/// ROS camera_info YAML, the file camera_calibration writes and camera_info_manager reads: image_width,
/// image_height, camera_name, camera_matrix, distortion_model, distortion_coefficients, rectification_matrix,
/// projection_matrix, each matrix as {rows, cols, data}. ROS has no frame id in this file; it comes from the driver.
/// </summary>
public static class RosCameraInfoYaml
{
    public static CameraModel Read(string path, string frameId = "camera")
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"camera info file not found: {path}", path);
        return Parse(File.ReadAllText(path), path, frameId);
    }

    /// <param name="source">Names the text in errors (a path, usually).</param>
    public static CameraModel Parse(string yaml, string source, string frameId = "camera")
    {
        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            root = stream.Documents.Count > 0 && stream.Documents[0].RootNode is YamlMappingNode map
                ? map
                : throw new CalibrationFileException(source, "(document)", "not a YAML mapping");
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new CalibrationFileException(source, "(document)", $"not valid YAML: {e.Message}");
        }

        int width = ReadInt(root, "image_width", source);
        int height = ReadInt(root, "image_height", source);
        string name = Scalar(root, "camera_name") ?? "camera";
        var k = ReadMatrix(root, "camera_matrix", source, 3, 3) ?? throw Missing(source, "camera_matrix");
        string modelName = Scalar(root, "distortion_model") ?? throw Missing(source, "distortion_model");
        if (!DistortionModels.TryParse(modelName, out var model))
            throw new CalibrationFileException(source, "distortion_model", $"unknown distortion model '{modelName}' (expected plumb_bob, rational_polynomial or equidistant)");
        int count = DistortionModels.CoefficientCount(model);
        var d = ReadMatrix(root, "distortion_coefficients", source, 1, count) ?? throw Missing(source, "distortion_coefficients");
        var r = ReadMatrix(root, "rectification_matrix", source, 3, 3);
        var p = ReadMatrix(root, "projection_matrix", source, 3, 4);
        try
        {
            return new CameraModel(width, height, k, model, d, r, p, name, frameId);
        }
        catch (ArgumentException e)
        {
            throw new CalibrationFileException(source, "camera_matrix", e.Message);
        }
    }

    public static void Write(string path, CameraModel camera) => File.WriteAllText(path, Format(camera));

    /// <summary>The layout of camera_calibration's ost.yaml, with round-trip numbers instead of its 5 decimals.</summary>
    public static string Format(CameraModel camera)
    {
        var sb = new StringBuilder();
        sb.Append("image_width: ").Append(camera.Width.ToString(CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("image_height: ").Append(camera.Height.ToString(CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("camera_name: ").Append(QuoteIfNeeded(camera.CameraName)).Append('\n');
        AppendMatrix(sb, "camera_matrix", camera.K, 3, 3);
        sb.Append("distortion_model: ").Append(DistortionModels.RosName(camera.Distortion)).Append('\n');
        AppendMatrix(sb, "distortion_coefficients", camera.D, 1, camera.D.Count);
        AppendMatrix(sb, "rectification_matrix", camera.R, 3, 3);
        AppendMatrix(sb, "projection_matrix", camera.P, 3, 4);
        return sb.ToString();
    }

    private static void AppendMatrix(StringBuilder sb, string name, IReadOnlyList<double> values, int rows, int cols)
    {
        sb.Append(name).Append(":\n");
        sb.Append("  rows: ").Append(rows.ToString(CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("  cols: ").Append(cols.ToString(CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("  data: [");
        for (int i = 0; i < values.Count; i++)
        {
            if (i > 0) sb.Append(i % cols == 0 ? ",\n         " : ", ");
            sb.Append(FormatNumber(values[i]));
        }
        sb.Append("]\n");
    }

    /// <summary>
    /// Shortest round-trip text, with a dot before any exponent: PyYAML (the ROS Python tools) reads "1E-05" as a
    /// string and only "1.0E-05" as a float.
    /// </summary>
    private static string FormatNumber(double value)
    {
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        int e = text.IndexOf('E', StringComparison.Ordinal);
        return e >= 0 && !text.Contains('.', StringComparison.Ordinal) ? text.Insert(e, ".0") : text;
    }

    /// <summary>Names are written bare as ROS does, unless YAML would read them as something else.</summary>
    private static string QuoteIfNeeded(string name)
    {
        bool plain = name.Length > 0 && name.Trim() == name && name.IndexOfAny([':', '#', '{', '}', '[', ']', ',', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', '\n']) < 0
            && !double.TryParse(name, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
            && name is not ("true" or "false" or "null" or "~" or "yes" or "no");
        return plain ? name : "'" + name.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    private static CalibrationFileException Missing(string source, string field) => new(source, field, "missing");

    private static string? Scalar(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) && node is YamlScalarNode s ? s.Value : null;

    private static int ReadInt(YamlMappingNode map, string key, string source)
    {
        string text = Scalar(map, key) ?? throw Missing(source, key);
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
            ? v
            : throw new CalibrationFileException(source, key, $"'{text}' is not an integer");
    }

    /// <summary>A {rows, cols, data} matrix of the expected shape; null when the key is absent.</summary>
    private static double[]? ReadMatrix(YamlMappingNode root, string key, string source, int rows, int cols)
    {
        if (!root.Children.TryGetValue(new YamlScalarNode(key), out var node)) return null;
        if (node is not YamlMappingNode map) throw new CalibrationFileException(source, key, "expected a mapping with rows, cols and data");
        int r = ReadInt(map, "rows", source + ": " + key);
        int c = ReadInt(map, "cols", source + ": " + key);
        if (r != rows || c != cols)
            throw new CalibrationFileException(source, key, $"expected {rows}x{cols}, the file says {r}x{c}");
        if (!map.Children.TryGetValue(new YamlScalarNode("data"), out var dataNode) || dataNode is not YamlSequenceNode seq)
            throw new CalibrationFileException(source, key + ".data", "missing or not a list");
        if (seq.Children.Count != rows * cols)
            throw new CalibrationFileException(source, key + ".data", $"expected {rows * cols} values ({rows}x{cols}), got {seq.Children.Count}");
        var values = new double[seq.Children.Count];
        for (int i = 0; i < values.Length; i++)
        {
            string? text = (seq.Children[i] as YamlScalarNode)?.Value;
            if (text is null || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
                throw new CalibrationFileException(source, $"{key}.data[{i}]", $"'{text}' is not a number");
        }
        return values;
    }
}
