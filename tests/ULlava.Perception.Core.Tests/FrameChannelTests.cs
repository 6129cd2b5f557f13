using ULlava.Perception.Core.Frames;
using ULlava.Perception.Core.Pipeline;

namespace ULlava.Perception.Core.Tests;

public class FrameChannelTests
{
    private static Frame MakeFrame(ulong sequence) => new(new FrameStamp("cam0", sequence, 1000 + (long)sequence), 2, 1, new byte[6]);

    [Fact]
    public async Task LatestFrameKeepsOnlyTheNewestAndCountsTheRest()
    {
        var channel = FrameChannel.LatestFrame();
        for (ulong i = 0; i < 5; i++) await channel.WriteAsync(MakeFrame(i), CancellationToken.None);
        Assert.Equal(1, channel.Count);
        Assert.Equal(4, channel.Dropped);
        Assert.True(channel.Reader.TryRead(out var frame));
        Assert.Equal(4UL, frame!.Stamp.Sequence);
    }

    [Fact]
    public async Task LosslessMakesTheWriterWaitAndDropsNothing()
    {
        var channel = FrameChannel.Lossless(capacity: 2);
        await channel.WriteAsync(MakeFrame(0), CancellationToken.None);
        await channel.WriteAsync(MakeFrame(1), CancellationToken.None);
        var third = channel.WriteAsync(MakeFrame(2), CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.False(third.IsCompleted);
        Assert.True(channel.Reader.TryRead(out var first));
        await third.WaitAsync(TimeSpan.FromSeconds(5));
        channel.Complete();
        var rest = new List<ulong> { first!.Stamp.Sequence };
        await foreach (var f in channel.Reader.ReadAllAsync()) rest.Add(f.Stamp.Sequence);
        Assert.Equal(new ulong[] { 0, 1, 2 }, rest);
        Assert.Equal(0, channel.Dropped);
    }

    [Fact]
    public void FrameRejectsDataOfTheWrongSize()
    {
        var e = Assert.Throws<ArgumentException>(() => new Frame(new FrameStamp("cam0", 0, 0), 4, 4, new byte[10]));
        Assert.Contains("4x4x3", e.Message);
    }
}
