using System.Diagnostics;
using OpenCvSharp;
using ULlava.Perception.Capture;
using ULlava.Perception.Model.Inference;
using ULlava.Perception.Node.Hosting;
using ULlava.Perception.Node.Instructions;
using ULlava.Perception.Node.Pipeline;
using ULlava.Perception.Recording.Replay;
using Xunit.Abstractions;
using CoreKind = ULlava.Perception.Core.Inference.InstructionKind;
using Size = OpenCvSharp.Size;

namespace ULlava.Perception.Node.Tests;

/// <summary>
/// The node recording onto a disk that fills up (a real 1 MiB tmpfs; mounting needs root, otherwise a skip that
/// says why): the recording stops with its error in the status, the node keeps processing and ends with exit 0.
/// (Recording.Tests covers the recorder alone.)
/// </summary>
public sealed class DiskFullNodeTests(ITestOutputHelper output) : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("ullava-diskfull").FullName;

    public void Dispose() => Directory.Delete(dir, true);

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        args.ToList().ForEach(start.ArgumentList.Add);
        try
        {
            using var process = Process.Start(start)!;
            string text = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, text);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }

    [SkippableFact]
    public async Task AFullDiskStopsTheRecordingNotTheNode()
    {
        const int frames = 10;
        // Noise frames: ~230 KB a frame as PNG, so the 1 MiB disk is full after a few.
        string clip = Path.Combine(dir, "noise.avi");
        var random = new Random(5);
        using (var writer = new VideoWriter(clip, FourCC.FromString("MJPG"), 10, new Size(320, 240)))
        using (var frame = new Mat(240, 320, MatType.CV_8UC3))
        {
            var pixels = new byte[240 * 320 * 3];
            for (int i = 0; i < frames; i++)
            {
                random.NextBytes(pixels);
                System.Runtime.InteropServices.Marshal.Copy(pixels, 0, frame.Data, pixels.Length);
                writer.Write(frame);
            }
        }
        string mount = Path.Combine(dir, "small");
        Directory.CreateDirectory(mount);
        var (code, mountOutput) = Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount);
        Skip.If(code != 0, $"cannot mount a 1 MiB tmpfs here (needs root): {mountOutput.Trim()}");
        try
        {
            using var engine = ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = Path.Combine(AppContext.BaseDirectory, "assets", "models", "ullava-tiny") });
            var options = new NodeOptions
            {
                Sources = new[] { new SourceSpec("cam0", clip) },
                Instructions = new[] { new StandingInstruction("seg-1", new Core.Inference.InstructionRequest("Please segment the red circle.", CoreKind.Segment)) },
                PublishEndpoint = "tcp://127.0.0.1:0",
                CommandEndpoint = null,
                PrintFrames = false,
                Record = new RecordingSettings(Path.Combine(mount, "session.mcap")),
            };
            var node = new PerceptionNode(options, engine, spec => new VideoCaptureSource(spec.StreamId, spec.Uri), TextWriter.Null);
            var statuses = new List<Messages.V1.NodeStatus>();
            node.Published += (topic, message) =>
            {
                if (message is Messages.V1.NodeStatus s) lock (statuses) statuses.Add(s);
            };
            Assert.Equal(0, await node.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(180)));
            Assert.Equal(frames, node.FramesProcessed);

            var last = statuses[^1];
            output.WriteLine($"recording: active {last.Recording.Active}, {last.Recording.BytesWritten} bytes, error: {last.Recording.Error}");
            Assert.False(last.Recording.Active);
            Assert.Contains("recording stopped", last.Recording.Error);
            // What reached the disk is readable: a prefix of the frames, with the loss reported.
            var reader = RecordingReader.Open(Path.Combine(mount, "session.mcap"));
            var recorded = reader.ReadEvents().OfType<RecordedFrame>().ToList();
            Assert.InRange(recorded.Count, 0, frames - 1);
            Assert.Equal(Enumerable.Range(0, recorded.Count).Select(i => (ulong)i), recorded.Select(f => f.Header.Sequence));
        }
        finally
        {
            var (umount, umountOutput) = Run("umount", mount);
            Assert.True(umount == 0, $"umount {mount}: {umountOutput}");
        }
    }
}
