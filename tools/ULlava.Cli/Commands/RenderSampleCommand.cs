using OpenCvSharp;
using ULlava.Training.Scenes;

namespace ULlava.Cli.Commands;

/// <summary>
/// `ullava render-sample --out FILE`: renders the bundled sample video, coloured shapes moving over a plain
/// background, with the training scenes' generator, deterministically (same bytes of pixels for the same arguments).
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
            DrawScene(frame, i / (double)(frames - 1), (ulong)i);
            writer.Write(frame);
        }
        Console.WriteLine($"{output}: {frames} frames, {width}x{height} at {fps} fps");
        return 0;
    }

    /// <summary>
    /// The scene at time t in [0,1], drawn by the training scenes' generator (its palette, rasteriser, lighting and
    /// noise, so the bundled model sees what it was trained on): a red circle moving right, a blue square moving down and
    /// a still green triangle on a flat grey background.
    /// </summary>
    public static Scene SceneAt(int width, int height, double t, ulong frameIndex)
    {
        var palette = SceneColour.Palette.ToDictionary(c => c.Name);
        var objects = new[]
        {
            new ShapeSpec(ShapeKind.Triangle, palette["green"], width * 0.80, height * 0.76, height * 0.12),
            new ShapeSpec(ShapeKind.Square, palette["blue"], width * 0.62, height * (0.20 + 0.35 * t), height * 0.09),
            new ShapeSpec(ShapeKind.Circle, palette["red"], width * (0.15 + 0.30 * t), height * 0.45, height * 0.12),
        };
        return new SceneGenerator(width, height).Compose(objects, background: (150, 148, 140), gain: 1.0, noise: 4, noiseSeed: frameIndex);
    }

    public static void DrawScene(Mat bgr, double t, ulong frameIndex = 0)
    {
        var scene = SceneAt(bgr.Cols, bgr.Rows, t, frameIndex);
        using var rgb = Mat.FromPixelData(scene.Height, scene.Width, MatType.CV_8UC3, scene.Rgb);
        Cv2.CvtColor(rgb, bgr, ColorConversionCodes.RGB2BGR);
    }
}
