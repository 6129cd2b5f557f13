using ULlava.Perception.Core.Frames;

namespace ULlava.Perception.Capture.Tests;

/// <summary>A sink that keeps every frame's stamp (and the last frame) for the checks.</summary>
internal sealed class FrameLog
{
    private readonly List<FrameStamp> stamps = [];
    private Frame? last;

    public ValueTask Sink(Frame frame, CancellationToken cancellation)
    {
        lock (stamps)
        {
            stamps.Add(frame.Stamp);
            last = frame;
        }
        return ValueTask.CompletedTask;
    }

    public IReadOnlyList<FrameStamp> Stamps
    {
        get
        {
            lock (stamps) return [.. stamps];
        }
    }

    public Frame? Last
    {
        get
        {
            lock (stamps) return last;
        }
    }

    public async Task WaitForCountAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Stamps.Count < count)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"only {Stamps.Count} of {count} frames within {timeout.TotalSeconds} s");
            await Task.Delay(10);
        }
    }
}
