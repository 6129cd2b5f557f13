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
            Assert.Equal(1, p[0]); // red
            Assert.Equal(1, p[colours + (int)ShapeKind.Square]);
            Assert.Equal(1, p[colours + shapes]); // an object is here
            Assert.Equal(2, p.Take(colours + shapes).Sum()); // nothing else
            Assert.Equal([0f, 0.25f, 0.5f, 0.5f], p.Skip(colours + shapes + 1).Take(4)); // its box, on the square
            Assert.Equal([(col + 0.5f) / grid, 1.5f / grid], p.Skip(colours + shapes + 5));
        }
        var background = Patch(1, 2);
        Assert.Equal(0, background.Take(colours + shapes + 5).Sum());
        Assert.Equal([2.5f / grid, 1.5f / grid], background.Skip(colours + shapes + 5));
        Assert.Equal(0, Patch(0, 0).Take(colours + shapes + 5).Sum()); // the padding above the frame
    }
}
