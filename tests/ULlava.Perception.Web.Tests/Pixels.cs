using OpenCvSharp;

namespace ULlava.Perception.Web.Tests;

/// <summary>Colour counts in BGR images: how the tests find annotations in decoded JPEGs and screenshots.</summary>
internal static class Pixels
{
    /// <summary>Pixels of <paramref name="region"/> whose every channel is within <paramref name="tolerance"/> of <paramref name="colour"/>.</summary>
    public static int CountNear(Mat bgr, Rect region, Scalar colour, int tolerance)
    {
        using var roi = new Mat(bgr, region);
        using var inRange = new Mat();
        Cv2.InRange(roi, new Scalar(colour.Val0 - tolerance, colour.Val1 - tolerance, colour.Val2 - tolerance),
                    new Scalar(colour.Val0 + tolerance, colour.Val1 + tolerance, colour.Val2 + tolerance), inRange);
        return Cv2.CountNonZero(inRange);
    }

    /// <summary>The frame itself as BGR (what the source delivered, before any annotation).</summary>
    public static Mat FromFrame(Core.Frames.Frame frame)
    {
        using var rgb = Mat.FromPixelData(frame.Height, frame.Width, MatType.CV_8UC3, frame.Rgb);
        return rgb.CvtColor(ColorConversionCodes.RGB2BGR);
    }

    /// <summary>Mean of the per-channel standard deviations: near 0 for a blank region.</summary>
    public static double Spread(Mat bgr, Rect region)
    {
        using var roi = new Mat(bgr, region);
        Cv2.MeanStdDev(roi, out _, out var std);
        return (std.Val0 + std.Val1 + std.Val2) / 3;
    }
}
