using System.Diagnostics;
using ULlava.Perception.Recording.Replay;
using ULlava.Perception.Recording.Session;

namespace ULlava.Perception.Recording.Tests;

/// <summary>A real full disk: a 1 MiB tmpfs. Needs the right to mount (root); otherwise the test reports a skip and why.</summary>
public sealed class DiskFullTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        args.ToList().ForEach(start.ArgumentList.Add);
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }

    [SkippableFact]
    public void A_full_disk_stops_the_recording_with_an_error_and_keeps_what_was_flushed()
    {
        using var dir = new TempDir();
        var mount = dir.File("small");
        Directory.CreateDirectory(mount);
        var (code, mountOutput) = Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount);
        Skip.If(code != 0, $"cannot mount a 1 MiB tmpfs here (needs root): {mountOutput.Trim()}");
        try
        {
            int accepted = 0, refused = 0;
            string file;
            string? error;
            using (var recorder = new SessionRecorder(SessionSample.Options(Path.Combine(mount, "full.mcap"), compression: "") with { ChunkSize = 32 * 1024 }))
            {
                // About 3 MiB of frames, uncompressed: three times what the disk holds.
                for (var i = 0; i < 1200; i++)
                {
                    if (recorder.RecordFrame(SessionSample.Header(i), "jpeg", SessionSample.Jpeg(i)))
                    {
                        accepted++;
                    }
                    else
                    {
                        refused++;
                    }
                }
                recorder.Stop();

                Assert.Equal(RecorderState.Failed, recorder.State);
                Assert.Contains("recording stopped", recorder.Error);
                Assert.False(recorder.GetStatus().Active);
                Assert.False(recorder.RecordFrame(SessionSample.Header(9999), "jpeg", [1]));
                file = Assert.Single(recorder.Files);
                error = recorder.Error;
            }

            var replay = new RecordingReader([file]);
            var frames = replay.ReadEvents().OfType<RecordedFrame>().ToList();
            // A contiguous prefix survived, intact, and the loss is reported.
            Assert.True(frames.Count > 100, $"only {frames.Count} frames survived");
            Assert.True(frames.Count < accepted, $"{frames.Count} of {accepted} frames: the disk cannot hold them all");
            Assert.Equal(Enumerable.Range(0, frames.Count).Select(i => (ulong)i), frames.Select(f => f.Header.Sequence));
            Assert.Equal(SessionSample.Jpeg(frames.Count - 1), frames[^1].Data);
            Assert.NotEmpty(replay.Problems);
            output.WriteLine($"{frames.Count} of {accepted} accepted frames survived ({refused} refused); error: {error}");
            replay.Problems.ToList().ForEach(p => output.WriteLine(p.Problem.ToString()));
        }
        finally
        {
            var (umount, umountOutput) = Run("umount", mount);
            Assert.True(umount == 0, $"umount {mount}: {umountOutput}");
        }
    }
}
