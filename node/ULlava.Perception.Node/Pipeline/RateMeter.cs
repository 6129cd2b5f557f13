using System.Diagnostics;

namespace ULlava.Perception.Node.Pipeline;

/// <summary>Events per second over a sliding window of the last few seconds. Thread-safe.</summary>
public sealed class RateMeter
{
    private readonly Queue<long> ticks = new();
    private readonly long windowTicks;

    public RateMeter(double windowSeconds = 3) => windowTicks = (long)(windowSeconds * Stopwatch.Frequency);

    public void Tick()
    {
        lock (ticks)
        {
            ticks.Enqueue(Stopwatch.GetTimestamp());
            Trim();
        }
    }

    public double PerSecond
    {
        get
        {
            lock (ticks)
            {
                Trim();
                if (ticks.Count < 2) return 0;
                double span = (Stopwatch.GetTimestamp() - ticks.Peek()) / (double)Stopwatch.Frequency;
                return span > 0 ? (ticks.Count - 1) / span : 0;
            }
        }
    }

    private void Trim()
    {
        long cutoff = Stopwatch.GetTimestamp() - windowTicks;
        while (ticks.Count > 0 && ticks.Peek() < cutoff) ticks.Dequeue();
    }
}
