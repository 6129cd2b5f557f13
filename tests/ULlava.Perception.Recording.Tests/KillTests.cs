using System.Diagnostics;
using ULlava.Perception.Recording.Mcap;
using ULlava.Perception.Recording.Replay;

namespace ULlava.Perception.Recording.Tests;

/// <summary>A real writer process killed with SIGKILL mid-recording; its file is then read.</summary>
public sealed class KillTests
{
    /// <summary>Starts this assembly as a writer, waits for its "ready" line, SIGKILLs it; returns that line.</summary>
    private static string RunAndKill(string mode, string path, int count)
    {
        var assembly = typeof(CrashWriterProgram).Assembly.Location;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { assembly, mode, path, count.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        try
        {
            var line = process.StandardOutput.ReadLineAsync();
            if (!line.Wait(TimeSpan.FromSeconds(60)) || line.Result is null)
            {
                Assert.Fail($"writer (pid {process.Id}) did not get ready: {process.StandardError.ReadToEnd()}");
            }
            return line.Result!;
        }
        finally
        {
            // Process.Kill is SIGKILL on Unix: no finalizers, no flush, no footer.
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
    }

    [Fact]
    public void A_killed_writer_process_leaves_exactly_its_closed_chunks()
    {
        using var dir = new TempDir();
        var path = dir.File("killed.mcap");
        var ready = RunAndKill(CrashWriterProgram.McapMode, path, 1000);
        var closed = int.Parse(ready.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);

        using var reader = McapReader.Open(path);
        var messages = reader.ReadMessages().ToList();

        Assert.InRange(closed, 100, 999);
        Assert.Equal(Enumerable.Range(0, closed).Select(i => (uint)i), messages.Select(m => m.Sequence));
        Assert.Equal(SampleFile.Payload(closed - 1), messages[^1].Data.ToArray());
        Assert.True(reader.HasProblem(McapProblemKind.NoSummary));
        Assert.False(reader.ScanReachedDataEnd);
    }

    [Fact]
    public void A_killed_node_recording_replays_a_contiguous_run_of_frames()
    {
        using var dir = new TempDir();
        const int count = 200;
        RunAndKill(CrashWriterProgram.RecorderMode, dir.File("node.mcap"), count);

        var replay = RecordingReader.Open(dir.File("node.mcap"));
        var frames = replay.ReadEvents().OfType<RecordedFrame>().ToList();

        // A 16 KiB chunk holds fewer than 10 of these frames: at most that many were still in memory.
        Assert.InRange(frames.Count, count - 10, count);
        Assert.Contains(replay.Problems, p => p.Problem.Kind == McapProblemKind.NoSummary);
        Assert.Equal(Enumerable.Range(0, frames.Count).Select(i => (ulong)i), frames.Select(f => f.Header.Sequence));
        Assert.Equal(SessionSample.Jpeg(frames.Count - 1), frames[^1].Data);
        Assert.Contains(replay.ReadMetadata(), m => m.Metadata.Name == "ullava.model");
    }
}
