using ULlava.Training.Scenes;
using ULlava.Training.Training;

namespace ULlava.Training.Tests;

public sealed class VisionTargetsTests
{
    [Fact]
    public void EachPatchIsTaughtWhatCoversItWhereItsObjectIsAndWhereItIs()
    {
        // 200×100 frame → a 200 px square with the frame 50 px down; a 4×4 grid of 50 px patches. One red square
        // covering frame x 0..100, y 0..50 fills the square's patches (row 1, columns 0 and 1).
        const int w = 200, h = 100, grid = 4;
        var mask = new byte[w * h];
        for (int y = 0; y < 50; y++)
            for (int x = 0; x < 100; x++) mask[y * w + x] = 1;
        var red = SceneColour.Palette[0];
        var square = new SceneObject(ShapeKind.Square, red, [red.R, red.G, red.B], 50, 25, 25, 0, mask, new PixelBox(0, 0, 100, 50), 5000, 5000);
        var scene = new Scene(w, h, new byte[w * h * 3], [square], default, 0);

        var targets = VisionPretrainer.Targets(scene, grid);
        int width = VisionPretrainer.TargetWidth, colours = SceneColour.Palette.Count, shapes = Enum.GetValues<ShapeKind>().Length;
        Assert.Equal(grid * grid * width, targets.Length);
        float[] Patch(int row, int col) => targets.AsSpan((row * grid + col) * width, width).ToArray();

        foreach (int col in new[] { 0, 1 })
        {
            var p = Patch(1, col);
            Assert.Equal(0, p[0]); // red
            Assert.Equal((int)ShapeKind.Square, p[1]);
            Assert.Equal([0f, 0.25f, 0.5f, 0.5f], p.Skip(2).Take(4)); // its box, on the square
            Assert.Equal([(col + 0.5f) / grid, 1.5f / grid], p.Skip(6).Take(2));
        }
        var background = Patch(1, 2);
        Assert.Equal([colours, shapes, 0, 0, 0, 0], background.Take(6)); // no colour, no shape, no box
        Assert.Equal([2.5f / grid, 1.5f / grid], background.Skip(6).Take(2));
        Assert.Equal([colours, shapes], Patch(0, 0).Take(2)); // the padding above the frame

        // The frame's summary, on every patch alike: red is there, its pixels centred at (50, 75) on the 200 px square;
        // one square.
        var summary = Patch(0, 0).Skip(8).ToArray();
        Assert.Equal(3 * colours + 2 * shapes, summary.Length);
        Assert.Equal(1f, summary[0]);
        Assert.Equal(0.25f, summary[1], 1e-5f); // summed in float over the pixels
        Assert.Equal(0.375f, summary[2], 1e-5f);
        Assert.Equal(0, summary.Skip(3).Take(3 * colours - 3).Sum()); // no other colour
        var shapeSummary = summary.Skip(3 * colours).ToArray();
        Assert.Equal([1f, 1f / VisionPretrainer.MaxCount], shapeSummary.Skip(2 * (int)ShapeKind.Square).Take(2));
        Assert.Equal(1 + 1f / VisionPretrainer.MaxCount, shapeSummary.Sum());
        for (int p = 1; p < grid * grid; p++) Assert.Equal(summary, targets.AsSpan(p * width + 8, summary.Length).ToArray());
    }

    [Fact]
    public void APatchIsTaughtTheObjectCoveringMostOfIt()
    {
        // Two objects in one 50 px patch of a 4×4 grid over a 200 px square frame: the blue one covers more of it.
        const int w = 200, h = 200, grid = 4;
        SceneObject Block(ShapeKind shape, SceneColour colour, int x0, int x1)
        {
            var mask = new byte[w * h];
            for (int y = 0; y < 50; y++)
                for (int x = x0; x < x1; x++) mask[y * w + x] = 1;
            return new SceneObject(shape, colour, [colour.R, colour.G, colour.B], (x0 + x1) / 2.0, 25, 25, 0, mask, new PixelBox(x0, 0, x1, 50), (x1 - x0) * 50, (x1 - x0) * 50);
        }
        var (red, blue) = (SceneColour.Palette[0], SceneColour.Palette.First(c => c.Name == "blue"));
        var scene = new Scene(w, h, new byte[w * h * 3], [Block(ShapeKind.Star, red, 0, 15), Block(ShapeKind.Ring, blue, 15, 50)], default, 0);
        var p = VisionPretrainer.Targets(scene, grid).AsSpan(0, VisionPretrainer.TargetWidth).ToArray();
        Assert.Equal(SceneColour.Palette.ToList().IndexOf(blue), p[0]);
        Assert.Equal((int)ShapeKind.Ring, p[1]);
        Assert.Equal([15f / w, 0f, 50f / w, 50f / w], p.Skip(2).Take(4));
    }
}

public sealed class ObjectFeatureProbeTests
{
    [Fact]
    public void TheRidgeProbeReadsWhatFeaturesCarryAndNothingElse()
    {
        // 400 rows of 16 features, 5 classes: a feature that is the label (plus noise) is read back; pure noise is near chance.
        var rng = new Random(4);
        var labels = Enumerable.Range(0, 400).Select(_ => (long)rng.Next(5)).ToArray();
        float[] Row(long label, bool informative) => Enumerable.Range(0, 16).Select(j => (float)(rng.NextDouble() + (informative && j == label ? 2 : 0))).ToArray();
        using var informative = TorchSharp.torch.tensor(labels.SelectMany(l => Row(l, true)).ToArray(), new long[] { 400, 16 });
        using var noise = TorchSharp.torch.tensor(labels.SelectMany(l => Row(l, false)).ToArray(), new long[] { 400, 16 });
        Assert.True(ObjectFeatureProbe.RidgeAccuracy(informative, labels, 5, 280) > 0.95);
        Assert.InRange(ObjectFeatureProbe.RidgeAccuracy(noise, labels, 5, 280), 0.05, 0.4);
        Assert.Throws<ArgumentOutOfRangeException>(() => ObjectFeatureProbe.RidgeAccuracy(noise, labels, 5, 400));
    }
}
