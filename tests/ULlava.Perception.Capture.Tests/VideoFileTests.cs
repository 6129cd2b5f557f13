using ULlava.Perception.Core.Frames;
using ULlava.Perception.Core.Pipeline;

namespace ULlava.Perception.Capture.Tests;

public sealed class VideoFileTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("ullava-capture-").FullName;

    [Fact]
    public async Task AFileRunsToItsEndWithEveryFrameThroughALosslessChannel()
    {
        string path = Tools.RenderTestClip(directory, 37);
        int expected = Tools.NbFrames(path);
        Assert.Equal(37, expected);

        var source = SourceFactory.Create("file0", path);
        Assert.IsType<VideoCaptureSource>(source);
        Assert.False(source.IsLive);
        var channel = FrameChannel.Lossless(2);
        var producer = Task.Run(async () =>
        {
            try
            {
                await source.RunAsync(channel.WriteAsync, CancellationToken.None);
                channel.Complete();
            }
            catch (Exception e)
            {
                channel.Complete(e);
            }
        });

        var stamps = new List<FrameStamp>();
        await foreach (var frame in channel.Reader.ReadAllAsync())
        {
            Assert.Equal((160, 120), (frame.Width, frame.Height));
            stamps.Add(frame.Stamp);
            // Slower than the decoder, so the writer has to wait: nothing may be dropped for it.
            await Task.Delay(5);
        }
        await producer.WaitAsync(TimeSpan.FromSeconds(30));
        await source.DisposeAsync();

        Assert.Equal(expected, stamps.Count);
        Assert.Equal(0, channel.Dropped);
        Assert.Equal(Enumerable.Range(0, expected).Select(i => (ulong)i), stamps.Select(s => s.Sequence));
        // The file's own clock: 10 fps → 100 ms steps.
        Assert.Equal(0, stamps[0].StreamTimestampNs);
        Assert.Equal(3_600_000_000L, stamps[^1].StreamTimestampNs!.Value, tolerance: 2_000_000);
        Assert.Equal(SourceState.Ended, source.State);
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);
}
