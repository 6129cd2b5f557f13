using OpenCvSharp;
using OpenCvSharp.Aruco;

namespace ULlava.Perception.Calibration;

/// <summary>
/// Finds the chessboard corners of a ChArUco board through its markers, so a view that shows only part of the
/// board still counts (unlike a plain chessboard). Holds OpenCV's detector: build once, use for every image.
/// </summary>
public sealed class CharucoViewDetector : IDisposable
{
    /// <summary>Fewer corners than this give a pose too weak to help calibration.</summary>
    public const int MinCorners = 6;

    private readonly Dictionary dictionary;
    private readonly CharucoBoard board;
    private readonly CharucoDetector detector;

    public CharucoViewDetector(CharucoBoardSpec spec)
    {
        if (spec.Squares.Width < 3 || spec.Squares.Height < 3) throw new ArgumentException("a ChArUco board needs at least 3x3 squares", nameof(spec));
        if (spec.MarkerSize <= 0 || spec.MarkerSize >= spec.SquareSize) throw new ArgumentException("the marker must be smaller than the square", nameof(spec));
        Spec = spec;
        dictionary = CvAruco.GetPredefinedDictionary(spec.Dictionary);
        board = new CharucoBoard(spec.Squares.Width, spec.Squares.Height, (float)spec.SquareSize, (float)spec.MarkerSize, dictionary);
        detector = new CharucoDetector(board);
    }

    public CharucoBoardSpec Spec { get; }

    /// <summary>The visible corners and their board coordinates, or null when fewer than <see cref="MinCorners"/> or all on one line.</summary>
    public CalibrationView? Detect(Mat image, string name)
    {
        detector.DetectBoard(image, out var corners, out var ids, out _, out _);
        if (corners is null || ids is null || corners.Length < MinCorners) return null;
        using (var idMat = Mat.FromArray(ids))
            if (board.CheckCharucoCornersCollinear(idMat)) return null;
        int cols = Spec.Squares.Width - 1;
        // OpenCV numbers the inner corners row-major from the board's first corner, one square in from each edge.
        var objectPoints = ids.Select(id => new Point3f((float)((id % cols + 1) * Spec.SquareSize), (float)((id / cols + 1) * Spec.SquareSize), 0)).ToArray();
        return new CalibrationView(name, corners, objectPoints);
    }

    /// <summary>The board to print (or render): <paramref name="size"/> pixels, white margin included.</summary>
    public Mat GenerateImage(Size size, int marginPixels)
    {
        var image = new Mat();
        board.GenerateImage(size, image, marginPixels, 1);
        return image;
    }

    public void Dispose()
    {
        detector.Dispose();
        board.Dispose();
        dictionary.Dispose();
    }
}
