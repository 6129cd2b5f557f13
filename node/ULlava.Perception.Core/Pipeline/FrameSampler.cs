namespace ULlava.Perception.Core.Pipeline;

/// <summary>
/// Decides which captured frames reach the model: at most <see cref="MaxFps"/> per second (by capture time),
/// and/or every Nth frame. Not thread-safe: one per stream, used by the stage that reads that stream.
/// </summary>
public sealed class FrameSampler
{
    private long lastTakenNs = long.MinValue;
    private ulong seen;

    public FrameSampler(double maxFps = 0, int everyNFrames = 1)
    {
        Configure(maxFps, everyNFrames);
    }

    public double MaxFps { get; private set; }

    public int EveryNFrames { get; private set; } = 1;

    public void Configure(double maxFps, int everyNFrames)
    {
        if (double.IsNaN(maxFps) || maxFps < 0) throw new ArgumentOutOfRangeException(nameof(maxFps), $"max fps {maxFps}: expected 0 (no limit) or more");
        if (everyNFrames < 1) throw new ArgumentOutOfRangeException(nameof(everyNFrames), $"every-N {everyNFrames}: expected 1 or more");
        MaxFps = maxFps;
        EveryNFrames = everyNFrames;
    }

    /// <summary>True when the frame captured at <paramref name="captureTimeNs"/> should be processed.</summary>
    public bool Take(long captureTimeNs)
    {
        ulong index = seen++;
        if (index % (ulong)EveryNFrames != 0) return false;
        if (MaxFps > 0 && lastTakenNs != long.MinValue && captureTimeNs - lastTakenNs < (long)(1e9 / MaxFps) - 1_000_000)
            return false; // 1 ms slack so a 30 fps stream sampled at 15 fps takes every other frame despite jitter
        lastTakenNs = captureTimeNs;
        return true;
    }
}
