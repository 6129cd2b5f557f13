using ULlava.Perception.Core.Frames;
using ULlava.Perception.Core.Pipeline;

namespace ULlava.Perception.Node.Pipeline;

/// <summary>One source and what hangs off it: its channel to the model, its sampler and its counters.</summary>
internal sealed class StreamPipe
{
    private long framesIn;
    private long framesSampled;

    public StreamPipe(IFrameSource source, FrameSampler sampler)
    {
        Source = source;
        Sampler = sampler;
        Channel = source.IsLive ? FrameChannel.LatestFrame() : FrameChannel.Lossless();
    }

    public IFrameSource Source { get; }
    public FrameChannel Channel { get; }

    /// <summary>Used only by the model thread.</summary>
    public FrameSampler Sampler { get; }

    public Task? CaptureTask { get; set; }
    public long FramesIn => Interlocked.Read(ref framesIn);
    public long FramesSampled => Interlocked.Read(ref framesSampled);
    public int Width { get; private set; }
    public int Height { get; private set; }
    public RateMeter InRate { get; } = new();
    public RateMeter SampledRate { get; } = new();

    public ValueTask Accept(Frame frame, CancellationToken cancellation)
    {
        Interlocked.Increment(ref framesIn);
        Width = frame.Width;
        Height = frame.Height;
        InRate.Tick();
        return Channel.WriteAsync(frame, cancellation);
    }

    public void CountSampled()
    {
        Interlocked.Increment(ref framesSampled);
        SampledRate.Tick();
    }
}
