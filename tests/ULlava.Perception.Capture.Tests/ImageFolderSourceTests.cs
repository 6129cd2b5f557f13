using OpenCvSharp;
using ULlava.Perception.Core.Frames;

namespace ULlava.Perception.Capture.Tests;

public sealed class ImageFolderSourceTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("ullava-images").FullName;

    public void Dispose() => Directory.Delete(dir, true);

    [Fact]
    public async Task ImagesArriveInNameOrderAsRgbFramesAndUnreadableOnesAreNamed()
    {
        // Written out of order; each image is one flat BGR colour so its RGB bytes can be checked.
        (string Name, int B, int G, int R)[] colours = { ("frame_002.png", 10, 20, 30), ("frame_000.png", 40, 50, 60), ("frame_001.jpg", 0, 0, 250) };
        foreach (var (name, b, g, r) in colours)
        {
            using var image = new Mat(8, 12, MatType.CV_8UC3, new Scalar(b, g, r));
            Cv2.ImWrite(Path.Combine(dir, name), image);
        }
        File.WriteAllText(Path.Combine(dir, "frame_003.png"), "not a png");
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "ignored");

        var source = SourceFactory.Create("cam0", dir);
        Assert.IsType<ImageFolderSource>(source);
        var frames = new List<Frame>();
        await source.RunAsync((f, _) =>
        {
            frames.Add(f);
            return ValueTask.CompletedTask;
        }, CancellationToken.None);

        Assert.Equal(new ulong[] { 0, 1, 2 }, frames.Select(f => f.Stamp.Sequence));
        Assert.Equal((byte)60, frames[0].Rgb[0]); // frame_000: R=60 first in RGB
        Assert.InRange(frames[1].Rgb[0], (byte)240, (byte)255); // frame_001.jpg: red
        Assert.Equal(new byte[] { 30, 20, 10 }, frames[2].Rgb[..3]);
        Assert.Equal(SourceState.Ended, source.State);
        Assert.Contains("frame_003.png", source.LastError);
    }

    [Fact]
    public void AFolderWithoutImagesIsAClearError()
    {
        File.WriteAllText(Path.Combine(dir, "readme.txt"), "no images here");
        var e = Assert.Throws<FileNotFoundException>(() => SourceFactory.Create("cam0", dir));
        Assert.Contains("no images", e.Message);
    }
}
