using ULlava.Perception.Core.Results;

namespace ULlava.Perception.Core.Tests;

public class CocoRleTests
{
    [Fact]
    public void CountsAreColumnMajorStartingWithBackground()
    {
        // [[0,1,1],[0,0,1]]: Fortran order 0 0 | 1 0 | 1 1 → runs 2,1,1,2 (what pycocotools.mask.encode gives).
        byte[] mask = { 0, 1, 1, 0, 0, 1 };
        Assert.Equal(new uint[] { 2, 1, 1, 2 }, CocoRle.Encode(mask, width: 3, height: 2));
    }

    [Fact]
    public void SetFirstPixelGivesALeadingZero()
    {
        byte[] mask = { 1, 0, 0, 0 };
        Assert.Equal(new uint[] { 0, 1, 3 }, CocoRle.Encode(mask, 2, 2));
    }

    [Fact]
    public void RandomMasksRoundTrip()
    {
        var random = new Random(42);
        for (int trial = 0; trial < 50; trial++)
        {
            int w = random.Next(1, 40), h = random.Next(1, 40);
            var mask = new byte[w * h];
            for (int i = 0; i < mask.Length; i++) mask[i] = (byte)(random.NextDouble() < 0.3 ? 1 : 0);
            var counts = CocoRle.Encode(mask, w, h);
            Assert.Equal(mask, CocoRle.Decode(counts, w, h));
            Assert.Equal(w * h, counts.Sum(c => (long)c));
        }
    }

    [Fact]
    public void DecodeRejectsCountsOfTheWrongTotal()
    {
        Assert.Throws<ArgumentException>(() => CocoRle.Decode(new uint[] { 1, 2 }, 2, 2));
        Assert.Throws<ArgumentException>(() => CocoRle.Decode(new uint[] { 3, 3 }, 2, 2));
    }

    [Fact]
    public void GeometryGivesAreaBoxAndCentroid()
    {
        var mask = new byte[5 * 4];
        for (int y = 1; y <= 2; y++)
        for (int x = 2; x <= 4; x++) mask[y * 5 + x] = 1;
        var g = MaskGeometry.Measure(mask, 5, 4);
        Assert.Equal(6, g.Area);
        Assert.Equal((2, 1, 5, 3), (g.XMin, g.YMin, g.XMax, g.YMax));
        Assert.Equal(3.5, g.CentroidX, 9);
        Assert.Equal(2.0, g.CentroidY, 9);
        Assert.Equal(0, MaskGeometry.Measure(new byte[4], 2, 2).Area);
    }
}
