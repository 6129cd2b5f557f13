namespace ULlava.Perception.Capture.Tests;

public sealed class SourceFactoryTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("ullava-factory-").FullName;

    [Theory]
    [InlineData("rtsp://127.0.0.1:8554/cam")]
    [InlineData("RTSP://camera.local/stream1")]
    [InlineData("http://127.0.0.1:8080/video.ts")]
    [InlineData("udp://239.0.0.1:1234")]
    [InlineData("srt://127.0.0.1:9000")]
    public async Task NetworkUrisGoToFfmpeg(string uri)
    {
        await using var source = SourceFactory.Create("cam0", uri);
        var stream = Assert.IsType<FfmpegStreamSource>(source);
        Assert.True(stream.IsLive);
        Assert.Equal(uri, stream.Uri);
        Assert.Equal(uri[..uri.IndexOf(':')].ToLowerInvariant(), stream.Scheme);
    }

    [Fact]
    public async Task FilesAndFileUrisGoToOpenCv()
    {
        string path = Tools.RenderTestClip(directory, 3);
        await using var plain = SourceFactory.Create("f", path);
        await using var uri = SourceFactory.Create("f", new Uri(path).AbsoluteUri);
        Assert.Equal(path, Assert.IsType<VideoCaptureSource>(plain).Uri);
        Assert.Equal(path, Assert.IsType<VideoCaptureSource>(uri).Uri);
    }

    [Fact]
    public void AMissingFileIsNamed()
    {
        string path = Path.Combine(directory, "missing.mp4");
        var e = Assert.Throws<FileNotFoundException>(() => SourceFactory.Create("f", path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void AMissingCameraDeviceIsNamed()
    {
        var e = Assert.Throws<FileNotFoundException>(() => SourceFactory.Create("cam", "/dev/video987"));
        Assert.Contains("/dev/video987", e.Message);
    }

    [Fact]
    public void AnUnsupportedSchemeSaysWhatIsSupported()
    {
        var e = Assert.Throws<ArgumentException>(() => SourceFactory.Create("x", "gopher://example.org/video"));
        Assert.Contains("gopher", e.Message);
        Assert.Contains("rtsp://", e.Message);
    }

    [Fact]
    public void AMissingFfmpegIsReportedWithThePackage()
    {
        var options = new FfmpegStreamOptions { FfmpegPath = Path.Combine(directory, "no-ffmpeg-here") };
        var e = Assert.Throws<FileNotFoundException>(() => SourceFactory.Create("x", "rtsp://127.0.0.1/x", streamOptions: options));
        Assert.Contains("apt-get install ffmpeg", e.Message);
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);
}
