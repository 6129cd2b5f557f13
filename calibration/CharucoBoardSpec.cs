using System.Globalization;
using OpenCvSharp;
using OpenCvSharp.Aruco;

namespace ULlava.Perception.Calibration;

/// <summary>
/// A ChArUco board: <paramref name="Squares"/> columns × rows of squares (its inner corners are one fewer each way),
/// square and marker edges in metres, and the ArUco dictionary of its markers (OpenCV ≥ 4.6 layout).
/// </summary>
public sealed record CharucoBoardSpec(Size Squares, double SquareSize, double MarkerSize, PredefinedDictionaryType Dictionary)
{
    public Size InnerCorners => new(Squares.Width - 1, Squares.Height - 1);

    /// <summary>"4X4_50", "DICT_6X6_250" and so on (OpenCV's names, case-insensitive).</summary>
    public static PredefinedDictionaryType ParseDictionary(string name)
    {
        string key = name.Trim().ToUpperInvariant();
        if (key.StartsWith("DICT_", StringComparison.Ordinal)) key = key[5..];
        foreach (var value in Enum.GetValues<PredefinedDictionaryType>())
        {
            string candidate = value.ToString().ToUpperInvariant();
            if (candidate.StartsWith("DICT", StringComparison.Ordinal)) candidate = candidate[4..].TrimStart('_');
            if (candidate == key) return value;
        }
        throw new ArgumentException($"unknown ArUco dictionary '{name}' (e.g. 4X4_50, 5X5_100, 6X6_250, ARUCO_ORIGINAL)", nameof(name));
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"ChArUco {Squares.Width}x{Squares.Height} squares of {SquareSize} m, markers {MarkerSize} m, {Dictionary}");
}
