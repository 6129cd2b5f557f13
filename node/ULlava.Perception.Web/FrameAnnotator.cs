using System.Globalization;
using System.Text;
using OpenCvSharp;
using ULlava.Perception.Core.Results;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Node.Pipeline;

namespace ULlava.Perception.Web;

/// <summary>
/// Draws a processed frame's results over it: each mask as a translucent fill with a solid outline, each box as a
/// rectangle with its instruction id; the stream, sequence, fps, latency and each instruction's answer go in a panel
/// under the frame. Every instruction keeps its colours (a hash of its id), so they do not swap between frames.
/// </summary>
public static class FrameAnnotator
{
    private const double MaskAlpha = 0.4;
    private const int LineHeight = 18;
    private static readonly Scalar PanelBackground = new(32, 32, 32);

    // BGR. Saturated colours that the sample video and most scenes lack, in two sets so masks and boxes differ.
    private static readonly Scalar[] MaskPalette =
    [
        new(255, 0, 255),   // magenta
        new(255, 255, 0),   // cyan
        new(0, 128, 255),   // orange
        new(255, 0, 128),   // violet
    ];
    private static readonly Scalar[] BoxPalette =
    [
        new(0, 255, 255),   // yellow
        new(0, 255, 128),   // lime
        new(128, 128, 255), // salmon
        new(255, 128, 0),   // azure
    ];

    /// <summary>The mask colour (B, G, R) of an instruction.</summary>
    public static Scalar MaskColour(string instructionId) => MaskPalette[Slot(instructionId, MaskPalette.Length)];

    /// <summary>The box colour (B, G, R) of an instruction.</summary>
    public static Scalar BoxColour(string instructionId) => BoxPalette[Slot(instructionId, BoxPalette.Length)];

    /// <summary>
    /// The annotated frame as a BGR image (the caller disposes it): the frame with masks and boxes drawn over it, and
    /// below it a text panel (stream, sequence, fps, latency, each instruction and its answer). The text goes under
    /// the frame rather than over it, so it never hides what is drawn near the top.
    /// </summary>
    /// <param name="fps">Frames per second the node finishes, shown in the panel.</param>
    public static Mat Render(ProcessedFrame processed, double fps, bool paused)
    {
        var frame = processed.Frame;
        var lines = PanelLines(processed, fps, paused);
        var canvas = new Mat(frame.Height + lines.Count * LineHeight + 8, frame.Width, MatType.CV_8UC3, PanelBackground);
        using (var image = new Mat(canvas, new Rect(0, 0, frame.Width, frame.Height)))
        {
            unsafe
            {
                fixed (byte* p = frame.Rgb)
                {
                    using var rgb = Mat.FromPixelData(frame.Height, frame.Width, MatType.CV_8UC3, (IntPtr)p);
                    Cv2.CvtColor(rgb, image, ColorConversionCodes.RGB2BGR);
                }
            }
            // Drawing on the frame's region clips to it: a box that reaches past the frame never spills into the panel.
            foreach (var result in processed.Results)
                foreach (var mask in result.Masks)
                    DrawMask(image, mask, MaskColour(result.InstructionId));
            foreach (var result in processed.Results)
                foreach (var box in result.Boxes)
                    DrawBox(image, box, result.InstructionId, BoxColour(result.InstructionId));
        }
        int chars = Math.Max(12, frame.Width / 8);
        for (int i = 0; i < lines.Count; i++)
            Cv2.PutText(canvas, Printable(lines[i].Text, chars), new Point(4, frame.Height + (i + 1) * LineHeight), HersheyFonts.HersheySimplex,
                        0.45, lines[i].Colour, 1, LineTypes.AntiAlias);
        return canvas;
    }

    /// <summary>The annotated frame as JPEG bytes.</summary>
    public static byte[] RenderJpeg(ProcessedFrame processed, double fps, bool paused, int quality)
    {
        using var bgr = Render(processed, fps, paused);
        return bgr.ImEncode(".jpg", new ImageEncodingParam(ImwriteFlags.JpegQuality, quality));
    }

    private static void DrawMask(Mat bgr, Mask mask, Scalar colour)
    {
        var rle = mask.Rle;
        // A mask of another size (a result made for another frame size) is not drawn rather than drawn in the wrong place.
        if (rle is null || rle.Width != bgr.Width || rle.Height != bgr.Height || mask.Area == 0) return;
        var pixels = CocoRle.Decode(rle.Counts, (int)rle.Width, (int)rle.Height);
        using var binary = Mat.FromPixelData(bgr.Height, bgr.Width, MatType.CV_8UC1, pixels);
        using var fill = new Mat(bgr.Size(), bgr.Type(), colour);
        using var blended = new Mat();
        Cv2.AddWeighted(bgr, 1 - MaskAlpha, fill, MaskAlpha, 0, blended);
        blended.CopyTo(bgr, binary);
        // Outlines only around regions of some size: a noisy mask (thousands of specks) would otherwise become a
        // solid mesh of outlines hiding the frame; its specks still show as the tint.
        double minArea = Math.Max(16, bgr.Width * bgr.Height / 2000.0);
        Cv2.FindContours(binary, out var contours, out _, RetrievalModes.External, ContourApproximationModes.ApproxSimple);
        var outlined = contours.Where(c => Cv2.ContourArea(c) >= minArea).ToArray();
        if (outlined.Length > 0) Cv2.DrawContours(bgr, outlined, -1, colour, 2, LineTypes.Link8);
    }

    private static void DrawBox(Mat bgr, Box box, string instructionId, Scalar colour)
    {
        var p = box.Pixels;
        if (p is null) return;
        var topLeft = new Point((int)Math.Round(p.XMin), (int)Math.Round(p.YMin));
        var bottomRight = new Point((int)Math.Round(p.XMax) - 1, (int)Math.Round(p.YMax) - 1);
        Cv2.Rectangle(bgr, topLeft, bottomRight, colour, 2, LineTypes.Link8);
        string label = string.IsNullOrEmpty(box.Phrase) ? instructionId : $"{instructionId} {box.Phrase}";
        var size = Cv2.GetTextSize(Printable(label, 40), HersheyFonts.HersheySimplex, 0.45, 1, out int baseline);
        int y = Math.Max(topLeft.Y, size.Height + baseline + 2);
        Cv2.Rectangle(bgr, new Rect(topLeft.X, y - size.Height - baseline - 2, size.Width + 4, size.Height + baseline + 2), colour, -1);
        Cv2.PutText(bgr, Printable(label, 40), new Point(topLeft.X + 2, y - baseline - 1), HersheyFonts.HersheySimplex, 0.45, Scalar.Black, 1, LineTypes.AntiAlias);
    }

    private static List<(string Text, Scalar Colour)> PanelLines(ProcessedFrame processed, double fps, bool paused)
    {
        var stamp = processed.Frame.Stamp;
        var lines = new List<(string Text, Scalar Colour)>
        {
            (string.Create(CultureInfo.InvariantCulture, $"{stamp.StreamId} #{stamp.Sequence}  {fps:0.0} fps  {processed.LatencyMs:0} ms{(paused ? "  PAUSED" : "")}"), Scalar.White),
        };
        foreach (var result in processed.Results)
        {
            string answer = result.Error is { Length: > 0 } error ? $"error: {error}" : result.Text;
            lines.Add(($"{result.InstructionId}: {result.Instruction}", MaskColour(result.InstructionId)));
            lines.Add(($"  -> {answer}", Scalar.White));
        }
        return lines;
    }

    /// <summary>Hershey fonts draw ASCII only: other characters become '?', control characters spaces; long text is cut.</summary>
    internal static string Printable(string text, int maxChars)
    {
        var sb = new StringBuilder(Math.Min(text.Length, maxChars));
        foreach (char c in text)
        {
            if (sb.Length >= maxChars)
            {
                sb.Length = maxChars - 3;
                sb.Append("...");
                break;
            }
            sb.Append(c is >= ' ' and <= '~' ? c : char.IsControl(c) || char.IsWhiteSpace(c) ? ' ' : '?');
        }
        return sb.ToString();
    }

    /// <summary>FNV-1a of the id: string.GetHashCode differs per process, colours must not.</summary>
    private static int Slot(string id, int count)
    {
        uint hash = 2166136261;
        foreach (char c in id) hash = (hash ^ c) * 16777619;
        return (int)(hash % (uint)count);
    }
}
