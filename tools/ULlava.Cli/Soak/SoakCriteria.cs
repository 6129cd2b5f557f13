namespace ULlava.Cli.Soak;

/// <summary>A result's latency: capture stamp to receipt by the soak's subscriber, at a time into the run.</summary>
public readonly record struct LatencySample(double AtSeconds, double Milliseconds);

/// <summary>The node's resident memory at a time into the run: all of it (VmRSS) and its anonymous part (RssAnon).</summary>
public readonly record struct MemorySample(double AtSeconds, long Bytes, long AnonymousBytes);

/// <summary>One time slice of the run: its result latencies.</summary>
public sealed record LatencySlice(double FromSeconds, double ToSeconds, int Results, double MedianMs, double P95Ms);

/// <summary>
/// The pass/fail rules of a soak, on the samples alone (so they are tested without a 10-minute run).
/// The run is cut in thirds; the first third is warm-up (JIT, first allocations of the model and of ffmpeg, the
/// GC finding its heap size) and is only reported.
/// <list type="bullet">
/// <item>Memory: the floor of the node's VmRSS (its 5th percentile, about twenty samples a second) over the second
/// third against its floor over the last third; growth at most 5 %. Not single samples, not even medians: each
/// frame's transient allocations (SAM's activations, given back to the system and taken again) move VmRSS between
/// about 270 and 840 MB within every second here, touching the floor only briefly; sampled at 20 Hz, the 5th
/// percentile of 14 s windows stayed within 1 % (266-269 MB) from 60 s to 360 s, the 10th percentile moved 9 %,
/// the median 11 %. A leak lifts every sample, the floor included. The anonymous part (RssAnon: heaps, tensors,
/// the managed heap) is reported beside it, to tell such growth from pages of mapped files (libtorch's code).</item>
/// <item>Latency: the median latency of the last third at most 1.5 × the median of the second third. A backlog
/// (frames queueing faster than the model takes them, or a publisher that falls behind) makes latency climb for as
/// long as it lasts, so it shows between two thirds of equal length; a median ignores single slow frames (a GC, a
/// keyframe wait, the machine's other work), and 1.5 leaves room for a machine whose load changes during the run.
/// Live sources keep only the newest frame, so a healthy node's latency is flat: one frame's processing plus its
/// wait in the channel.</item>
/// <item>Progress: results in every third (a node that stops producing fails even if its latency looks flat).</item>
/// </list>
/// </summary>
public static class SoakCriteria
{
    public const double MaxMemoryGrowth = 0.05;
    public const double MaxLatencyRatio = 1.5;

    /// <summary>The quantile of VmRSS that stands for a third's memory: its floor.</summary>
    public const double MemoryFloorQuantile = 0.05;

    /// <summary>VmRSS (or, with <paramref name="anonymous"/>, RssAnon) of one third of the run: floor (5th percentile), median and peak; null without samples.</summary>
    public static (long Floor, long Median, long Peak)? MemoryOfThird(IReadOnlyList<MemorySample> samples, double seconds, int third, bool anonymous = false)
    {
        double from = seconds * third / 3, to = seconds * (third + 1) / 3;
        var bytes = samples.Where(s => s.AtSeconds >= from && (s.AtSeconds < to || (third == 2 && s.AtSeconds <= to)))
                           .Select(s => (double)(anonymous ? s.AnonymousBytes : s.Bytes)).Order().ToList();
        if (bytes.Count == 0) return null;
        return ((long)Quantile(bytes, MemoryFloorQuantile)!.Value, (long)Quantile(bytes, 0.5)!.Value, (long)bytes[^1]);
    }

    /// <summary>(floor after warm-up: the second third, floor at the end: the last third, growth as a fraction) of VmRSS (or RssAnon); null where a third has no sample.</summary>
    public static (long? AfterWarmup, long? Final, double? Growth) Memory(IReadOnlyList<MemorySample> samples, double seconds, bool anonymous = false)
    {
        long? baseline = MemoryOfThird(samples, seconds, 1, anonymous)?.Floor, final = MemoryOfThird(samples, seconds, 2, anonymous)?.Floor;
        double? growth = baseline is > 0 && final is { } f ? f / (double)baseline.Value - 1 : null;
        return (baseline, final, growth);
    }

    /// <summary>Median latency of the second and of the last third, and their ratio (last / second).</summary>
    public static (double? Second, double? Last, double? Ratio) Latency(IReadOnlyList<LatencySample> samples, double seconds)
    {
        double third = seconds / 3;
        double? second = Median(samples.Where(s => s.AtSeconds >= third && s.AtSeconds < 2 * third).Select(s => s.Milliseconds));
        double? last = Median(samples.Where(s => s.AtSeconds >= 2 * third && s.AtSeconds <= seconds).Select(s => s.Milliseconds));
        double? ratio = second is > 0 && last is { } l ? l / second.Value : null;
        return (second, last, ratio);
    }

    public static List<LatencySlice> Slices(IReadOnlyList<LatencySample> samples, double seconds, int count)
    {
        var slices = new List<LatencySlice>(count);
        for (int i = 0; i < count; i++)
        {
            double from = seconds * i / count, to = seconds * (i + 1) / count;
            var ms = samples.Where(s => s.AtSeconds >= from && (s.AtSeconds < to || (i == count - 1 && s.AtSeconds <= to))).Select(s => s.Milliseconds).Order().ToList();
            slices.Add(new LatencySlice(from, to, ms.Count, Quantile(ms, 0.5) ?? double.NaN, Quantile(ms, 0.95) ?? double.NaN));
        }
        return slices;
    }

    /// <summary>What fails: one line per broken rule, empty when the samples pass.</summary>
    public static List<string> Check(IReadOnlyList<LatencySample> latencies, IReadOnlyList<MemorySample> memory, double seconds, double maxMemoryGrowth = MaxMemoryGrowth)
    {
        var failures = new List<string>();
        var thirds = Slices(latencies, seconds, 3);
        foreach (var (slice, name) in thirds.Zip(new[] { "first", "second", "last" }))
            if (slice.Results == 0) failures.Add($"no results in the {name} third ({slice.FromSeconds:F0}-{slice.ToSeconds:F0} s): the node stopped producing");
        var (afterWarmup, final, growth) = Memory(memory, seconds);
        if (growth is null) failures.Add($"memory: no samples after warm-up ({afterWarmup?.ToString() ?? "none"}) or at the end ({final?.ToString() ?? "none"})");
        else if (growth > maxMemoryGrowth) failures.Add($"memory grew {growth * 100:F1} % after warm-up (VmRSS floor {afterWarmup / 1e6:F1} MB to {final / 1e6:F1} MB; limit {maxMemoryGrowth * 100:F0} %)");
        var (second, last, ratio) = Latency(latencies, seconds);
        if (ratio > MaxLatencyRatio) failures.Add($"latency grew: median {last:F0} ms in the last third vs {second:F0} ms in the second (x{ratio:F2}; limit x{MaxLatencyRatio})");
        return failures;
    }

    private static double? Median(IEnumerable<double> values) => Quantile(values.Order().ToList(), 0.5);

    private static double? Quantile(List<double> sorted, double q)
    {
        if (sorted.Count == 0) return null;
        if (q == 0.5 && sorted.Count % 2 == 0) return (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
        return sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];
    }
}
