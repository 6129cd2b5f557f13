using System.Globalization;
using OpenCvSharp;

namespace ULlava.Perception.Calibration;

/// <summary>The parsed options of <c>calibrate</c>; <see cref="Parse"/> reads them from command-line arguments.</summary>
public sealed record CalibrateOptions
{
    /// <summary>A folder of board images; exactly one of this and <see cref="VideoFile"/>.</summary>
    public string? ImagesDir { get; init; }
    public string? VideoFile { get; init; }

    /// <summary>Inner corners per row and per column (a 10×7-square board has 9×6).</summary>
    public Size Board { get; init; } = new(9, 6);

    /// <summary>A ChArUco board instead of the chessboard (<see cref="Board"/> is then its inner corners).</summary>
    public CharucoBoardSpec? Charuco { get; init; }

    /// <summary>Square edge in metres; the translation of every pose, not the intrinsics, depends on it.</summary>
    public double SquareSize { get; init; }

    public required string OutputPath { get; init; }

    /// <summary>Video only: use every Nth frame (neighbouring frames add little but time).</summary>
    public int Every { get; init; } = 10;

    public DistortionModel Model { get; init; } = DistortionModel.PlumbBob;
    public CalibrationFileFormat Format { get; init; } = CalibrationFileFormat.RosYaml;
    public string CameraName { get; init; } = "camera";
    public double RejectFactor { get; init; } = 3.0;

    /// <summary>Where the side-by-side undistorted preview goes; next to the output as NAME.preview.png when null.</summary>
    public string? PreviewPath { get; init; }

    /// <summary>Arguments after the command name; ArgumentException with the problem (print <see cref="CalibrateCommandRunner.Usage"/> too).</summary>
    public static CalibrateOptions Parse(IReadOnlyList<string> args)
    {
        string? images = null, video = null, output = null, preview = null, format = null, dictionary = null;
        Size? board = null, charuco = null;
        double? square = null, marker = null;
        int every = 10;
        double reject = 3.0;
        string name = "camera";
        var model = DistortionModel.PlumbBob;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{arg} needs a value");
            switch (arg)
            {
                case "--images": images = Value(); break;
                case "--video": video = Value(); break;
                case "--board": board = ParseBoard(arg, Value(), 2); break;
                case "--charuco": charuco = ParseBoard(arg, Value(), 3); break;
                case "--marker": marker = ParsePositive(arg, Value()); break;
                case "--dict": dictionary = Value(); break;
                case "--square": square = ParsePositive(arg, Value()); break;
                case "--out": output = Value(); break;
                case "--every": every = int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int e) && e >= 1 ? e : throw new ArgumentException("--every needs an integer ≥ 1"); break;
                case "--model": model = DistortionModels.Parse(Value()); break;
                case "--format": format = Value(); break;
                case "--name": name = Value(); break;
                case "--reject": reject = ParsePositive(arg, Value()); break;
                case "--preview": preview = Value(); break;
                default: throw new ArgumentException($"unknown option {arg}");
            }
        }
        if ((images is null) == (video is null)) throw new ArgumentException("give exactly one of --images DIR and --video FILE");
        if (board is not null && charuco is not null) throw new ArgumentException("give --board (chessboard) or --charuco (ChArUco board), not both");
        if (board is null && charuco is null) throw new ArgumentException("--board COLSxROWS is required (inner corners, e.g. 9x6)");
        if (square is null) throw new ArgumentException("--square METRES is required (e.g. 0.025)");
        CharucoBoardSpec? charucoSpec = null;
        if (charuco is { } squares)
        {
            if (marker is null) throw new ArgumentException("--charuco needs --marker METRES (the marker edge)");
            if (marker >= square) throw new ArgumentException("--marker must be smaller than --square");
            charucoSpec = new CharucoBoardSpec(squares, square.Value, marker.Value, CharucoBoardSpec.ParseDictionary(dictionary ?? "4X4_50"));
            board = charucoSpec.InnerCorners;
        }
        else if (marker is not null || dictionary is not null) throw new ArgumentException("--marker and --dict are for --charuco boards");
        if (output is null) throw new ArgumentException("--out FILE is required (e.g. camera.yaml)");
        bool xml = Path.GetExtension(output).Equals(".xml", StringComparison.OrdinalIgnoreCase);
        var fileFormat = format switch
        {
            null => xml ? CalibrationFileFormat.OpenCvXml : CalibrationFileFormat.RosYaml,
            "ros" when !xml => CalibrationFileFormat.RosYaml,
            "opencv" => xml ? CalibrationFileFormat.OpenCvXml : CalibrationFileFormat.OpenCvYaml,
            "ros" => throw new ArgumentException("--format ros writes YAML; give --out a .yaml name"),
            _ => throw new ArgumentException($"--format must be ros or opencv, got '{format}'"),
        };
        return new CalibrateOptions
        {
            ImagesDir = images, VideoFile = video, Board = board!.Value, Charuco = charucoSpec, SquareSize = square.Value, OutputPath = output, Every = every,
            Model = model, Format = fileFormat, CameraName = name, RejectFactor = reject, PreviewPath = preview,
        };
    }

    private static Size ParseBoard(string option, string text, int min)
    {
        var parts = text.ToLowerInvariant().Split('x');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int cols)
            && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int rows) && cols >= min && rows >= min)
            return new Size(cols, rows);
        throw new ArgumentException(option == "--board"
            ? $"--board must be COLSxROWS inner corners, each ≥ {min} (e.g. 9x6), got '{text}'"
            : $"{option} must be COLSxROWS squares, each ≥ {min} (e.g. 7x5), got '{text}'");
    }

    private static double ParsePositive(string option, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v)
            ? v
            : throw new ArgumentException($"{option} needs a positive number, got '{text}'");
}
