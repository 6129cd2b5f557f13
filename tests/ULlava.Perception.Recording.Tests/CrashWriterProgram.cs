using ULlava.Perception.Recording.Mcap;
using ULlava.Perception.Recording.Session;

namespace ULlava.Perception.Recording.Tests;

/// <summary>
/// The test assembly doubles as a writer process for the kill -9 tests: it writes, says how far it got on stdout,
/// then waits to be killed. Run by the test host, never by hand.
/// </summary>
public static class CrashWriterProgram
{
    public const string McapMode = "crash-writer-mcap";
    public const string RecorderMode = "crash-writer-recorder";

    public static int Main(string[] args)
    {
        if (args.Length != 3)
        {
            return 2;
        }
        var path = args[1];
        var count = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
        if (args[0] == McapMode)
        {
            var writer = new McapWriter(new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read),
                new McapWriterOptions { Compression = "zstd", ChunkSize = 4096 });
            var channel = writer.AddChannel(0, "/x", "raw");
            var inClosedChunks = 0;
            for (var i = 0; i < count; i++)
            {
                var chunks = writer.ChunkIndexes.Count;
                writer.WriteMessage(channel, (uint)i, (ulong)i, (ulong)i, SampleFile.Payload(i));
                if (writer.ChunkIndexes.Count > chunks)
                {
                    inClosedChunks = i + 1;
                }
            }
            // Messages after the last closed chunk wait in memory: a kill must lose exactly those.
            Console.WriteLine($"ready {inClosedChunks}");
        }
        else if (args[0] == RecorderMode)
        {
            var recorder = new SessionRecorder(SessionSample.Options(path) with { ChunkSize = 16 * 1024, FlushInterval = TimeSpan.FromHours(1) });
            for (var i = 0; i < count; i++)
            {
                recorder.RecordFrame(SessionSample.Header(i), "jpeg", SessionSample.Jpeg(i));
            }
            while (recorder.MessagesWritten < 2L * count)
            {
                Thread.Sleep(10);
            }
            Console.WriteLine("ready");
        }
        else
        {
            return 2;
        }
        Console.Out.Flush();
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }
}
