using System.Globalization;
using ULlava.Perception.Messages.V1;

namespace ULlava.Cli.Soak;

/// <summary>What a soak measured, and what failed (empty: passed).</summary>
public sealed class SoakReport
{
    public double PlannedSeconds { get; init; }
    /// <summary>The memory rule's limit this run is held to (<see cref="SoakOptions.MaxMemoryGrowth"/>).</summary>
    public double MaxMemoryGrowth { get; init; } = SoakCriteria.MaxMemoryGrowth;
    /// <summary>Seconds actually measured (from the first result).</summary>
    public double Seconds { get; set; }
    public string Source { get; set; } = "";
    public string NodeCommand { get; set; } = "";
    public int NodePid { get; set; }
    public double StartupSeconds { get; set; }
    public List<MemorySample> Memory { get; } = [];
    public List<LatencySample> Latencies { get; } = [];
    /// <summary>Frames with at least one result during the run.</summary>
    public int Frames { get; set; }
    public NodeStatus? LastStatus { get; set; }
    public double? StopSeconds { get; set; }
    public int? ExitCode { get; set; }
    public List<ProcessIdentity> ChildrenSeen { get; } = [];
    public List<ProcessIdentity> ChildrenLeft { get; } = [];
    public bool ServerStopped { get; set; }
    public List<string> Failures { get; } = [];

    public bool Passed => Failures.Count == 0;

    /// <summary>Adds the failures of <see cref="SoakCriteria"/> (memory, latency, progress) on what was measured.</summary>
    public void Evaluate()
    {
        if (Seconds <= 0) return; // never got to measure: the reason is already a failure
        Failures.AddRange(SoakCriteria.Check(Latencies, Memory, Seconds, MaxMemoryGrowth));
    }

    public void Print(TextWriter output)
    {
        var o = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(o, $"soak: {Seconds:F0} s measured (planned {PlannedSeconds:F0} s) after a {StartupSeconds:F1} s start, on {Source}"));
        string status = LastStatus is { } s && s.Sources.Count > 0
            ? string.Create(o, $"; node status: {s.Sources[0].FramesIn} frames in, {s.Sources[0].FramesDropped} replaced by newer ones, fps in {s.Sources[0].FpsIn:F1}, out {s.FpsOut:F2}, publish drops {s.PublishDropped}")
            : "";
        output.WriteLine($"frames: {Frames} with results, {Latencies.Count} results{status}");
        output.WriteLine($"memory ({Memory.Count} samples), floor (5th percentile) / median / peak MB per third, VmRSS | RssAnon:");
        for (int third = 0; third < 3; third++)
        {
            string name = third == 0 ? "warm-up" : third == 1 ? "second" : "last";
            string Figures(bool anonymous) => SoakCriteria.MemoryOfThird(Memory, Seconds, third, anonymous) is { } m
                ? string.Create(o, $"{m.Floor / 1e6,6:F1} / {m.Median / 1e6,6:F1} / {m.Peak / 1e6,6:F1}")
                : "no samples";
            output.WriteLine(string.Create(o, $"  {name,-8} {Seconds * third / 3,5:F0}-{Seconds * (third + 1) / 3,-5:F0} s  {Figures(false)}  |  {Figures(true)}"));
        }
        var (afterWarmup, final, growth) = SoakCriteria.Memory(Memory, Seconds);
        var (anonAfterWarmup, anonFinal, anonGrowth) = SoakCriteria.Memory(Memory, Seconds, anonymous: true);
        output.WriteLine(string.Create(o, $"memory: VmRSS floor after warm-up {afterWarmup / 1e6:F1} MB, final {final / 1e6:F1} MB, growth {growth * 100:+0.00;-0.00} % (limit {MaxMemoryGrowth * 100:F0} %); " +
            $"RssAnon floor {anonAfterWarmup / 1e6:F1} -> {anonFinal / 1e6:F1} MB ({anonGrowth * 100:+0.00;-0.00} %)"));
        int sliceCount = Seconds >= 300 ? 10 : 6;
        output.WriteLine("latency (frame capture to result received), median / p95 ms (results):");
        foreach (var slice in SoakCriteria.Slices(Latencies, Seconds, sliceCount))
            output.WriteLine(string.Create(o, $"  {slice.FromSeconds,5:F0}-{slice.ToSeconds,-5:F0} s  {slice.MedianMs,7:F0} / {slice.P95Ms,-7:F0} ({slice.Results})"));
        var (second, last, ratio) = SoakCriteria.Latency(Latencies, Seconds);
        output.WriteLine(string.Create(o, $"latency: median {second:F0} ms in the second third, {last:F0} ms in the last: x{ratio:F2} (limit x{SoakCriteria.MaxLatencyRatio})"));
        string exit = ExitCode is { } code ? string.Create(o, $"exit {code} after {StopSeconds:F2} s") : "no exit";
        output.WriteLine($"stop: SIGTERM to node {NodePid} → {exit} (limit 2 s)");
        output.WriteLine($"children of the node: {(ChildrenSeen.Count == 0 ? "none seen" : string.Join(", ", ChildrenSeen))}; left after its exit: {(ChildrenLeft.Count == 0 ? "none" : string.Join(", ", ChildrenLeft))}; RTSP server {(ServerStopped ? "stopped" : "NOT stopped")}");
        if (Passed) output.WriteLine("soak: PASS");
        else
        {
            output.WriteLine("soak: FAIL");
            foreach (var failure in Failures) output.WriteLine($"  - {failure}");
        }
    }
}
