using System.Threading.Channels;
using ULlava.Perception.Core.Frames;

namespace ULlava.Perception.Core.Pipeline;

/// <summary>
/// The bounded channel between a source and the model. Live sources: capacity 1, the newest frame replaces an
/// unread one (lag never grows; replaced frames are counted). Files and replay: the writer waits, nothing is lost.
/// </summary>
public sealed class FrameChannel
{
    private readonly Channel<Frame> channel;
    private long dropped;

    private FrameChannel(bool latestOnly, int capacity)
    {
        LatestOnly = latestOnly;
        var options = new BoundedChannelOptions(capacity)
        {
            FullMode = latestOnly ? BoundedChannelFullMode.DropOldest : BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
        };
        channel = Channel.CreateBounded<Frame>(options, _ => Interlocked.Increment(ref dropped));
    }

    /// <summary>Capacity 1, newest wins: for cameras and network streams.</summary>
    public static FrameChannel LatestFrame() => new(latestOnly: true, capacity: 1);

    /// <summary>Back-pressure: the source waits for the model; for files and replay.</summary>
    public static FrameChannel Lossless(int capacity = 4) => new(latestOnly: false, capacity);

    public bool LatestOnly { get; }

    public long Dropped => Interlocked.Read(ref dropped);

    public int Count => channel.Reader.Count;

    public ChannelReader<Frame> Reader => channel.Reader;

    public ValueTask WriteAsync(Frame frame, CancellationToken cancellation) => channel.Writer.WriteAsync(frame, cancellation);

    /// <summary>No more frames will come (the source ended).</summary>
    public void Complete(Exception? error = null) => channel.Writer.TryComplete(error);
}
