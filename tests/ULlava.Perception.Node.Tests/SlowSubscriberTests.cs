using System.Diagnostics;
using Google.Protobuf;
using NetMQ;
using NetMQ.Sockets;
using OpenCvSharp;
using ULlava.Perception.Capture;
using ULlava.Perception.Messages;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Model.Inference;
using ULlava.Perception.Node.Hosting;
using ULlava.Perception.Node.Instructions;
using ULlava.Perception.Node.Pipeline;
using Xunit.Abstractions;
using CoreKind = ULlava.Perception.Core.Inference.InstructionKind;
using Size = OpenCvSharp.Size;

namespace ULlava.Perception.Node.Tests;

/// <summary>Measures the process's rate and heap: runs alone, after the other tests of this assembly.</summary>
[CollectionDefinition("measured alone", DisableParallelization = true)]
public sealed class MeasuredAloneCollection;

/// <summary>
/// A subscriber that connects and never reads (a real ZeroMQ SUB with a small receive high-water mark and socket
/// buffer) while the node publishes a lot: the node keeps its rate, its memory does not follow what it publishes, a
/// subscriber that does read keeps getting messages, and the stuck one is left with a bounded backlog (ZeroMQ
/// discarded the rest for it alone at its high-water mark).
/// </summary>
[Collection("measured alone")]
public sealed class SlowSubscriberTests(ITestOutputHelper output) : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("ullava-slowsub").FullName;

    public void Dispose() => Directory.Delete(dir, true);

    [Fact]
    public async Task ASubscriberThatNeverReadsCostsTheNodeNeitherRateNorMemory()
    {
        string clip = Path.Combine(dir, "clip.mp4");
        using (var writer = new VideoWriter(clip, FourCC.FromString("mp4v"), 10, new Size(64, 48)))
        using (var frame = new Mat(48, 64, MatType.CV_8UC3, new Scalar(90, 160, 220)))
        {
            for (int i = 0; i < 3; i++) writer.Write(frame);
        }
        using var engine = ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = Path.Combine(AppContext.BaseDirectory, "assets", "models", "ullava-tiny") });
        // An ask with a long answer: every generated piece is a TextUpdate carrying the text so far, so the node
        // publishes hundreds of growing messages per frame; statuses every 20 ms on top.
        var options = new NodeOptions
        {
            NodeId = "slow-sub",
            Sources = new[] { new SourceSpec("cam0", clip) },
            Instructions = new[] { new StandingInstruction("ask-1", new Core.Inference.InstructionRequest("Describe everything in this image in detail.", CoreKind.Ask, MaxNewTokens: 384)) },
            PublishEndpoint = "tcp://127.0.0.1:0",
            CommandEndpoint = null,
            PrintFrames = false,
            StatusIntervalSeconds = 0.02,
        };
        var node = new PerceptionNode(options, engine, spec => new VideoCaptureSource(spec.StreamId, spec.Uri, loop: true), TextWriter.Null);
        long publishedBytes = 0, publishedMessages = 0;
        node.Published += (_, message) =>
        {
            Interlocked.Add(ref publishedBytes, message.CalculateSize());
            Interlocked.Increment(ref publishedMessages);
        };
        using var stop = new CancellationTokenSource();
        var run = node.RunAsync(stop.Token);
        try
        {
            string endpoint = await node.PublishEndpoint;
            using var stuck = new SubscriberSocket();
            stuck.Options.ReceiveHighWatermark = 10;
            stuck.Options.ReceiveBuffer = 4096;
            stuck.Connect(endpoint);
            stuck.SubscribeToAnyTopic();

            // A subscriber that reads, on its own thread, for comparison.
            long healthyMessages = 0;
            long lastStatusTicks = 0;
            using var healthy = new SubscriberSocket();
            healthy.Connect(endpoint);
            healthy.SubscribeToAnyTopic();
            using var stopReading = new CancellationTokenSource();
            var reading = Task.Run(() =>
            {
                var message = new NetMQMessage();
                while (!stopReading.IsCancellationRequested)
                {
                    if (!healthy.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(100), ref message)) continue;
                    Interlocked.Increment(ref healthyMessages);
                    if (message[0].ConvertToString() == Topics.Status) Interlocked.Exchange(ref lastStatusTicks, Stopwatch.GetTimestamp());
                    message = new NetMQMessage();
                }
            });

            // Warm-up: frames flowing, both subscriptions in place.
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while ((node.FramesProcessed < 2 || Interlocked.Read(ref healthyMessages) == 0) && DateTime.UtcNow < deadline) await Task.Delay(100);
            Assert.True(node.FramesProcessed >= 2, "the node did not start processing");

            long memoryBefore = ManagedBytes();
            long messagesBefore = Interlocked.Read(ref publishedMessages), bytesBefore = Interlocked.Read(ref publishedBytes);
            long framesAtStart = node.FramesProcessed;
            await Task.Delay(TimeSpan.FromSeconds(12));
            long framesAtHalf = node.FramesProcessed;
            await Task.Delay(TimeSpan.FromSeconds(12));
            long framesAtEnd = node.FramesProcessed;
            long messages = Interlocked.Read(ref publishedMessages) - messagesBefore;
            long bytes = Interlocked.Read(ref publishedBytes) - bytesBefore;
            long memoryAfter = ManagedBytes();
            var status = node.BuildStatus();

            // What the stuck subscriber holds: its high-water mark plus what the kernel buffered, not the stream.
            int backlog = 0;
            var drained = new NetMQMessage();
            while (stuck.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(500), ref drained))
            {
                backlog++;
                drained = new NetMQMessage();
            }
            double sinceStatus = Stopwatch.GetElapsedTime(Interlocked.Read(ref lastStatusTicks)).TotalSeconds;
            await stopReading.CancelAsync();
            await reading;
            output.WriteLine($"published {messages} messages ({bytes / 1e6:F1} MB) in 24 s; frames {framesAtHalf - framesAtStart} then {framesAtEnd - framesAtHalf} per 12 s; " +
                             $"managed memory {memoryBefore / 1e6:F1} -> {memoryAfter / 1e6:F1} MB; stuck subscriber backlog {backlog} messages; healthy got {healthyMessages}; " +
                             $"publisher: published {status.ResultsPublished}, dropped {status.PublishDropped}");

            Assert.False(run.IsCompleted);
            Assert.True(messages > 3000, $"only {messages} messages published: not a load");
            // The rate holds: the second half processed at least half as many frames as the first (the machine's
            // other work moves it, a blocked publisher would stop it).
            Assert.True(framesAtEnd - framesAtHalf >= (framesAtHalf - framesAtStart) / 2, $"rate fell: {framesAtHalf - framesAtStart} then {framesAtEnd - framesAtHalf} frames");
            // ZeroMQ discarded for the stuck subscriber instead of queueing: it holds a small part of what was sent.
            Assert.True(backlog < messages / 2, $"the stuck subscriber holds {backlog} of {messages} messages");
            // Nothing accumulates in the node: its managed heap (NetMQ's pipes included) grows by far less than it published.
            Assert.True(memoryAfter - memoryBefore < Math.Max(1_000_000, bytes / 4), $"managed memory grew {(memoryAfter - memoryBefore) / 1e6:F1} MB while {bytes / 1e6:F1} MB were published");
            // The node's own queue to the socket never overflowed (the socket never blocked), and a reader is served.
            // PublishDropped stays 0: PUB discards for a full subscriber inside ZeroMQ without telling the sender;
            // the stuck subscriber's small backlog above is where those drops show.
            Assert.Equal(0UL, status.PublishDropped);
            Assert.True(sinceStatus < 2, $"the reading subscriber's last status was {sinceStatus:F1} s ago");
        }
        finally
        {
            await stop.CancelAsync();
            Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        }
    }

    /// <summary>
    /// Live managed bytes: what survived a full blocking collection (NetMQ's pipes and messages live there). Not the
    /// heap size, which moves by several MB with fragmentation, nor GC.GetTotalMemory, which read negative here.
    /// </summary>
    private static long ManagedBytes()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var info = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        return info.PromotedBytes;
    }
}
