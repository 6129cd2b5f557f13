using ULlava.Perception.Core.Results;
using ULlava.Perception.Core.Tracking;

namespace ULlava.Perception.Core.Tests;

/// <summary>
/// The mask scans that skip background (geometry, RLE, the tracker's pixel IoU) against the plain every-pixel loops
/// they replaced, on masks like the model's (one or two blobs anywhere, touching the edges, empty, full, 0/255).
/// </summary>
public class MaskScanTests
{
    public static IEnumerable<object[]> Seeds => Enumerable.Range(0, 12).Select(i => new object[] { i });

    private static byte[] Blobs(Random random, int w, int h, int count, byte on)
    {
        var mask = new byte[w * h];
        for (int b = 0; b < count; b++)
        {
            int cx = random.Next(-3, w + 3), cy = random.Next(-3, h + 3), r = random.Next(1, Math.Max(2, Math.Min(w, h) / 2));
            for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r && random.NextDouble() < 0.9) mask[y * w + x] = on;
        }
        return mask;
    }

    private static IEnumerable<(byte[] Mask, int W, int H)> Masks(int seed)
    {
        var random = new Random(seed);
        int w = random.Next(1, 70), h = random.Next(1, 50);
        yield return (new byte[w * h], w, h);
        yield return (Enumerable.Repeat((byte)1, w * h).ToArray(), w, h);
        for (int i = 0; i < 6; i++) yield return (Blobs(random, w, h, random.Next(1, 3), i % 2 == 0 ? (byte)1 : (byte)255), w, h);
    }

    private static uint[] NaiveRle(byte[] pixels, int width, int height)
    {
        var counts = new List<uint>();
        bool current = false;
        uint run = 0;
        for (int x = 0; x < width; x++)
        for (int y = 0; y < height; y++)
        {
            bool set = pixels[y * width + x] != 0;
            if (set != current)
            {
                counts.Add(run);
                run = 0;
                current = set;
            }
            run++;
        }
        counts.Add(run);
        return counts.ToArray();
    }

    private static MaskGeometry NaiveGeometry(byte[] pixels, int width, int height)
    {
        int area = 0, xMin = width, yMin = height, xMax = -1, yMax = -1;
        double sx = 0, sy = 0;
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            if (pixels[y * width + x] == 0) continue;
            area++;
            sx += x;
            sy += y;
            xMin = Math.Min(xMin, x);
            xMax = Math.Max(xMax, x);
            yMin = Math.Min(yMin, y);
            yMax = Math.Max(yMax, y);
        }
        return area == 0 ? default : new MaskGeometry(area, xMin, yMin, xMax + 1, yMax + 1, sx / area + 0.5, sy / area + 0.5);
    }

    private static double NaiveIou(byte[] a, byte[] b)
    {
        long inter = 0, union = 0;
        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] != 0 && b[i] != 0) inter++;
            if (a[i] != 0 || b[i] != 0) union++;
        }
        return union == 0 ? 0 : inter / (double)union;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RleEqualsTheEveryPixelEncoding(int seed)
    {
        foreach (var (mask, w, h) in Masks(seed))
        {
            Assert.Equal(NaiveRle(mask, w, h), CocoRle.Encode(mask, w, h));
            Assert.Equal(mask.Select(p => p != 0 ? (byte)1 : (byte)0), CocoRle.Decode(CocoRle.Encode(mask, w, h), w, h));
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void GeometryAndBoundsEqualTheEveryPixelMeasure(int seed)
    {
        foreach (var (mask, w, h) in Masks(seed))
        {
            var expected = NaiveGeometry(mask, w, h);
            var measured = MaskGeometry.Measure(mask, w, h);
            Assert.Equal((expected.Area, expected.XMin, expected.YMin, expected.XMax, expected.YMax), (measured.Area, measured.XMin, measured.YMin, measured.XMax, measured.YMax));
            Assert.Equal(expected.CentroidX, measured.CentroidX, 9);
            Assert.Equal(expected.CentroidY, measured.CentroidY, 9);
            var bounds = MaskGeometry.Bounds(mask, w, h);
            if (expected.Area == 0) Assert.Null(bounds);
            else Assert.Equal((expected.XMin, expected.YMin, expected.XMax, expected.YMax), bounds);
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void PixelIouEqualsTheEveryPixelCount(int seed)
    {
        var masks = Masks(seed).ToList();
        foreach (var (a, w, h) in masks)
        foreach (var (b, _, _) in masks)
        {
            var ta = new TrackedObject(0, 0, w, h, a, w, h);
            var tb = new TrackedObject(0, 0, w, h, b, w, h);
            Assert.Equal(NaiveIou(a, b), ObjectTracker.Iou(ta, tb), 12);
        }
    }

    [Fact]
    public void MasksWithoutASizeAreComparedWhole()
    {
        byte[] a = { 0, 1, 1, 0, 1, 0 }, b = { 0, 1, 0, 0, 1, 1 };
        Assert.Equal(0.5, ObjectTracker.Iou(new TrackedObject(0, 0, 1, 1, a), new TrackedObject(0, 0, 1, 1, b)), 12);
        Assert.Equal(0, ObjectTracker.Iou(new TrackedObject(0, 0, 1, 1, []), new TrackedObject(0, 0, 1, 1, [])));
    }
}
