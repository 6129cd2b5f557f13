using ULlava.Perception.Core.Frames;
using ULlava.Perception.Core.Inference;
using ULlava.Perception.Core.Pipeline;
using ULlava.Perception.Core.Tracking;
using ULlava.Perception.Node.Results;

namespace ULlava.Perception.Node.Pipeline;

/// <summary>One source and what hangs off it: its channel to the model, its sampler, its recent frames and counters.</summary>
internal sealed class StreamPipe
{
    private long framesIn;
    private long framesSampled;
    private Frame? latest;
    private CameraGeometry? calibrated;

    public StreamPipe(IFrameSource source, FrameSampler sampler, int historyFrames, CameraGeometry? camera = null)
    {
        calibrated = camera;
        Source = source;
        Sampler = sampler;
        HistoryCapacity = historyFrames;
        Channel = source.IsLive ? FrameChannel.LatestFrame() : FrameChannel.Lossless();
    }

    public IFrameSource Source { get; }
    public FrameChannel Channel { get; }

    /// <summary>Used only by the model thread.</summary>
    public FrameSampler Sampler { get; }

    /// <summary>Recently encoded frames, oldest first (trimmed to what video questions need). Model thread only.</summary>
    public List<IEncodedFrame> History { get; } = new();

    public int HistoryCapacity { get; }

    /// <summary>Per standing instruction: the trackers of its masks and of its boxes. Model thread only.</summary>
    public Dictionary<string, (ObjectTracker Masks, ObjectTracker Boxes)> Trackers { get; } = new();

    /// <summary>Only frames an instruction needs are encoded (otherwise every sampled frame, for asks and video windows).</summary>
    public bool OnDemand { get; set; } = true;

    public Task? CaptureTask { get; set; }
    public long FramesIn => Interlocked.Read(ref framesIn);
    public long FramesSampled => Interlocked.Read(ref framesSampled);
    public int Width { get; private set; }
    public int Height { get; private set; }
    public RateMeter InRate { get; } = new();
    public RateMeter SampledRate { get; } = new();

    /// <summary>The camera for frames of this size (the calibration scaled once if the stream's size differs), or null.</summary>
    public CameraGeometry? CameraFor(int width, int height)
    {
        var camera = Volatile.Read(ref calibrated);
        if (camera is null) return null;
        var sized = camera.ForFrame(width, height);
        if (!ReferenceEquals(sized, camera)) Volatile.Write(ref calibrated, sized);
        return sized;
    }

    public CameraGeometry? Camera => Volatile.Read(ref calibrated);

    /// <summary>The newest frame the source produced, for one-shot asks.</summary>
    public Frame? Latest => Volatile.Read(ref latest);

    public ValueTask Accept(Frame frame, CancellationToken cancellation)
    {
        Interlocked.Increment(ref framesIn);
        Width = frame.Width;
        Height = frame.Height;
        Volatile.Write(ref latest, frame);
        InRate.Tick();
        return Channel.WriteAsync(frame, cancellation);
    }

    public void CountSampled()
    {
        Interlocked.Increment(ref framesSampled);
        SampledRate.Tick();
    }

    /// <summary>Keeps an encoded frame for later asks and video windows, disposing the oldest beyond capacity.</summary>
    public void Remember(IEncodedFrame frame)
    {
        frame.Trim();
        History.Add(frame);
        while (History.Count > HistoryCapacity)
        {
            History[0].Dispose();
            History.RemoveAt(0);
        }
    }

    public IEncodedFrame? FindEncoded(ulong sequence) => History.LastOrDefault(f => f.Stamp.Sequence == sequence);

    public void ClearHistory()
    {
        foreach (var f in History) f.Dispose();
        History.Clear();
    }
}
