using OpenCvSharp;

namespace ULlava.Cli.Commands;

/// <summary>
/// `ullava render-sample --out FILE`: renders the bundled sample video, coloured shapes moving over a plain
/// background, deterministically (same bytes of pixels for the same arguments).
/// </summary>
public static class RenderSampleCommand
{
    public const string Usage = "render-sample --out FILE.mp4 [--width 640] [--height 480] [--fps 15] [--seconds 4]";

    public static int Run(ArgReader args)
    {
        string output = args.Required("--out");
        int width = args.Int("--width", 640, 64, 4096), height = args.Int("--height", 480, 64, 4096);
        int fps = args.Int("--fps", 15, 1, 120), seconds = args.Int("--seconds", 4, 1, 600);
        args.EnsureAllUsed();

        using var writer = new VideoWriter(output, FourCC.FromString("mp4v"), fps, new Size(width, height));
        if (!writer.IsOpened()) throw new IOException($"{output}: OpenCV cannot write an MP4 (mp4v) file there");
        using var frame = new Mat(height, width, MatType.CV_8UC3);
        int frames = fps * seconds;
        for (int i = 0; i < frames; i++)
        {
            DrawScene(frame, i / (double)(frames - 1));
            writer.Write(frame);
        }
        Console.WriteLine($"{output}: {frames} frames, {width}x{height} at {fps} fps");
        return 0;
    }

    /// <summary>The scene at time t in [0,1]: a red circle moving right, a blue square moving down, a still green triangle.</summary>
    public static void DrawScene(Mat bgr, double t)
    {
        int w = bgr.Cols, h = bgr.Rows;
        bgr.SetTo(new Scalar(225, 228, 230));
        var green = new[] { new Point(w * 0.70, h * 0.85), new Point(w * 0.85, h * 0.85), new Point(w * 0.775, h * 0.62) };
        Cv2.FillPoly(bgr, new[] { green }, new Scalar(60, 170, 40), LineTypes.AntiAlias);
        var square = new Rect((int)(w * 0.55), (int)(h * (0.10 + 0.35 * t)), (int)(w * 0.12), (int)(w * 0.12));
        Cv2.Rectangle(bgr, square, new Scalar(200, 80, 30), -1, LineTypes.AntiAlias);
        var centre = new Point(w * (0.15 + 0.35 * t), h * 0.45);
        Cv2.Circle(bgr, centre, (int)(h * 0.12), new Scalar(40, 40, 220), -1, LineTypes.AntiAlias);
    }
}
