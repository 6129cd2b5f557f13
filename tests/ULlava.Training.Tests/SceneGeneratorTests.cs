using ULlava.Training.Scenes;

namespace ULlava.Training.Tests;

public sealed class SceneGeneratorTests
{
    private static readonly SceneGenerator Generator = new(160, 120);

    [Fact]
    public void SameSeedGivesSameBytes()
    {
        var a = Generator.Generate(42);
        var b = new SceneGenerator(160, 120).Generate(42);
        Assert.Equal(a.Rgb, b.Rgb);
        Assert.Equal(a.Objects.Count, b.Objects.Count);
        for (int i = 0; i < a.Objects.Count; i++) Assert.Equal(a.Objects[i].Mask, b.Objects[i].Mask);
        var clipA = Generator.GenerateClip(7);
        var clipB = Generator.GenerateClip(7);
        Assert.Equal(clipA.Direction, clipB.Direction);
        for (int f = 0; f < clipA.Frames.Count; f++) Assert.Equal(clipA.Frames[f].Rgb, clipB.Frames[f].Rgb);
    }

    [Fact]
    public void DifferentSeedsDiffer()
    {
        var images = Enumerable.Range(0, 8).Select(s => Generator.Generate((ulong)s).Rgb).ToList();
        for (int i = 0; i < images.Count; i++)
            for (int j = i + 1; j < images.Count; j++)
                Assert.False(images[i].AsSpan().SequenceEqual(images[j]), $"seeds {i} and {j} gave the same image");
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    [InlineData(1234UL)]
    [InlineData(99999UL)]
    public void MasksMatchTheDrawnPixelsAndBoxesAreTight(ulong seed)
    {
        var scene = Generator.Generate(seed);
        Assert.InRange(scene.Objects.Count, 1, 4);
        var claimed = new int[scene.Width * scene.Height];
        foreach (var o in scene.Objects)
        {
            int count = 0;
            for (int p = 0; p < o.Mask.Length; p++)
            {
                if (o.Mask[p] == 0) continue;
                count++;
                claimed[p]++;
                for (int c = 0; c < 3; c++)
                    Assert.InRange(scene.Rgb[p * 3 + c], o.RenderedRgb[c] - scene.NoiseAmplitude, o.RenderedRgb[c] + scene.NoiseAmplitude);
            }
            Assert.Equal(o.VisiblePixels, count);
            Assert.True(count >= SceneGenerator.MinVisiblePixels && count >= SceneGenerator.MinVisibleFraction * o.FullPixels, $"{o.Phrase} is hidden");
            Assert.Equal(PixelBox.OfMask(o.Mask, scene.Width, scene.Height), o.Box);
            // Tight: every edge of the box touches the mask.
            int x0 = (int)o.Box.XMin, y0 = (int)o.Box.YMin, x1 = (int)o.Box.XMax - 1, y1 = (int)o.Box.YMax - 1;
            Assert.Contains(Enumerable.Range(y0, y1 - y0 + 1), y => o.Mask[y * scene.Width + x0] != 0);
            Assert.Contains(Enumerable.Range(y0, y1 - y0 + 1), y => o.Mask[y * scene.Width + x1] != 0);
            Assert.Contains(Enumerable.Range(x0, x1 - x0 + 1), x => o.Mask[y0 * scene.Width + x] != 0);
            Assert.Contains(Enumerable.Range(x0, x1 - x0 + 1), x => o.Mask[y1 * scene.Width + x] != 0);
        }
        Assert.All(claimed, c => Assert.InRange(c, 0, 1)); // a pixel belongs to at most one visible object
        Assert.Equal(scene.Objects.Count, scene.Objects.Select(o => o.Phrase).Distinct().Count());
    }

    [Fact]
    public void ClipObjectMovesInItsDirection()
    {
        foreach (ulong seed in Enumerable.Range(0, 12).Select(i => (ulong)i))
        {
            var clip = Generator.GenerateClip(seed);
            var first = clip.Frames[0].Objects[clip.MovingIndex].Box;
            var last = clip.Frames[^1].Objects[clip.MovingIndex].Box;
            float dx = (last.XMin + last.XMax - first.XMin - first.XMax) / 2, dy = (last.YMin + last.YMax - first.YMin - first.YMax) / 2;
            switch (clip.Direction)
            {
                case MotionDirection.Left: Assert.True(dx < -10 && Math.Abs(dy) < 3, $"seed {seed}: {dx},{dy}"); break;
                case MotionDirection.Right: Assert.True(dx > 10 && Math.Abs(dy) < 3, $"seed {seed}: {dx},{dy}"); break;
                case MotionDirection.Up: Assert.True(dy < -10 && Math.Abs(dx) < 3, $"seed {seed}: {dx},{dy}"); break;
                case MotionDirection.Down: Assert.True(dy > 10 && Math.Abs(dx) < 3, $"seed {seed}: {dx},{dy}"); break;
                default: Assert.True(Math.Abs(dx) < 1 && Math.Abs(dy) < 1, $"seed {seed}: {dx},{dy}"); break;
            }
        }
    }

    [Fact]
    public void SplitsAreDisjoint()
    {
        var splits = Enum.GetValues<DataSplit>().Select(SplitSeeds.Range).ToList();
        for (int i = 0; i < splits.Count; i++)
            for (int j = i + 1; j < splits.Count; j++)
            {
                var (a, an) = splits[i];
                var (b, bn) = splits[j];
                Assert.True(a + an <= b || b + bn <= a, $"ranges {i} and {j} overlap");
            }
        foreach (var split in Enum.GetValues<DataSplit>())
        {
            Assert.Equal(split, SplitSeeds.SplitOf(SplitSeeds.Seed(split, 0)));
            Assert.Equal(split, SplitSeeds.SplitOf(SplitSeeds.Seed(split, SplitSeeds.Range(split).Count - 1)));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => SplitSeeds.Seed(DataSplit.Test, SplitSeeds.TestCount));
    }
}
