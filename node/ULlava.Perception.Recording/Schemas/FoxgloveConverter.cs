using Foxglove;
using Google.Protobuf.WellKnownTypes;
using ULlava.Perception.Core.Results;
using ULlava.Perception.Messages.V1;
using FoxCalibration = Foxglove.CameraCalibration;

namespace ULlava.Perception.Recording.Schemas;

/// <summary>Our messages as Foxglove's, so a recording shows masks, boxes and calibration over the video.</summary>
public static class FoxgloveConverter
{
    /// <summary>Foxglove draws points, not rasters: a mask becomes its boundary pixels, thinned to at most this many.</summary>
    public const int MaxMaskOutlinePoints = 4000;

    private static readonly Color[] Palette =
    [
        new() { R = 0.90, G = 0.10, B = 0.29, A = 1 }, new() { R = 0.24, G = 0.71, B = 0.29, A = 1 },
        new() { R = 0.26, G = 0.39, B = 0.85, A = 1 }, new() { R = 1.00, G = 0.88, B = 0.10, A = 1 },
        new() { R = 0.57, G = 0.12, B = 0.71, A = 1 }, new() { R = 0.27, G = 0.94, B = 0.94, A = 1 },
    ];

    public static Timestamp ToTimestamp(long unixNs) =>
        new() { Seconds = Math.DivRem(unixNs, 1_000_000_000L, out var nanos) - (nanos < 0 ? 1 : 0), Nanos = (int)(nanos < 0 ? nanos + 1_000_000_000L : nanos) };

    public static CompressedImage ToCompressedImage(FrameHeader header, string format, ReadOnlyMemory<byte> data) => new()
    {
        Timestamp = ToTimestamp(header.CaptureTimeUnixNs),
        FrameId = header.CameraFrameId,
        Format = format,
        Data = Google.Protobuf.ByteString.CopyFrom(data.Span),
    };

    /// <summary>Boxes as outlined rectangles, masks as their outline pixels, each labelled with its phrase.</summary>
    public static ImageAnnotations ToImageAnnotations(InstructionResult result)
    {
        var stamp = ToTimestamp(result.Header?.CaptureTimeUnixNs ?? 0);
        var annotations = new ImageAnnotations { Timestamp = stamp };
        foreach (var box in result.Boxes)
        {
            var color = Palette[(int)(box.Index % Palette.Length)];
            var p = box.Pixels ?? new PixelBox();
            var outline = new PointsAnnotation { Timestamp = stamp, Type = PointsAnnotation.Types.Type.LineLoop, OutlineColor = color, Thickness = 2 };
            outline.Points.Add(new Point2 { X = p.XMin, Y = p.YMin });
            outline.Points.Add(new Point2 { X = p.XMax, Y = p.YMin });
            outline.Points.Add(new Point2 { X = p.XMax, Y = p.YMax });
            outline.Points.Add(new Point2 { X = p.XMin, Y = p.YMax });
            annotations.Points.Add(outline);
            annotations.Texts.Add(Label(stamp, box.Phrase, p.XMin, p.YMin, color));
        }
        foreach (var mask in result.Masks)
        {
            if (mask.Rle is null || mask.Rle.Width == 0 || mask.Rle.Height == 0)
            {
                continue;
            }
            var color = Palette[(int)(mask.Index % Palette.Length)];
            var outline = new PointsAnnotation { Timestamp = stamp, Type = PointsAnnotation.Types.Type.Points, OutlineColor = color, Thickness = 2 };
            outline.Points.AddRange(MaskOutline(mask.Rle));
            annotations.Points.Add(outline);
            var b = mask.Bbox ?? new PixelBox();
            annotations.Texts.Add(Label(stamp, mask.Phrase, b.XMin, b.YMin, color));
        }
        return annotations;
    }

    public static FoxCalibration ToCameraCalibration(Messages.V1.CameraCalibration calibration, long timeUnixNs)
    {
        var fox = new FoxCalibration
        {
            Timestamp = ToTimestamp(timeUnixNs),
            FrameId = calibration.FrameId,
            Width = calibration.Width,
            Height = calibration.Height,
            DistortionModel = calibration.DistortionModel,
        };
        fox.D.AddRange(calibration.D);
        fox.K.AddRange(calibration.K);
        fox.R.AddRange(calibration.R);
        fox.P.AddRange(calibration.P);
        return fox;
    }

    /// <summary>Set pixels with an unset (or off-image) 4-neighbour, evenly thinned to <see cref="MaxMaskOutlinePoints"/>.</summary>
    public static List<Point2> MaskOutline(RleMask rle)
    {
        int width = (int)rle.Width, height = (int)rle.Height;
        var pixels = CocoRle.Decode(rle.Counts, width, height);
        bool Set(int x, int y) => x >= 0 && y >= 0 && x < width && y < height && pixels[y * width + x] != 0;
        var boundary = new List<Point2>();
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                if (Set(x, y) && !(Set(x - 1, y) && Set(x + 1, y) && Set(x, y - 1) && Set(x, y + 1)))
                {
                    boundary.Add(new Point2 { X = x + 0.5, Y = y + 0.5 });
                }
            }
        }
        if (boundary.Count <= MaxMaskOutlinePoints)
        {
            return boundary;
        }
        var step = (double)boundary.Count / MaxMaskOutlinePoints;
        return Enumerable.Range(0, MaxMaskOutlinePoints).Select(i => boundary[(int)(i * step)]).ToList();
    }

    private static TextAnnotation Label(Timestamp stamp, string text, double x, double y, Color color) => new()
    {
        Timestamp = stamp,
        Position = new Point2 { X = x, Y = Math.Max(0, y - 4) },
        Text = text,
        FontSize = 14,
        TextColor = new Color { R = 1, G = 1, B = 1, A = 1 },
        BackgroundColor = new Color { R = color.R, G = color.G, B = color.B, A = 0.6 },
    };
}
