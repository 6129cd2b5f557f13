using ULlava.Perception.Capture;
using ULlava.Perception.Core.Frames;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Recording.Replay;
using SourceState = ULlava.Perception.Core.Frames.SourceState;

namespace ULlava.Perception.Node.Replay;

/// <summary>
/// Feeds a recording's frames of one stream back through the node with their recorded stamps, and re-issues the
/// recorded commands in their place: before a command, it waits until the node has processed every frame sent so
/// far, so the command lands between the same two frames as when it was recorded. As fast as possible, or in
/// real time (the recorded gaps between events).
/// </summary>
public sealed class ReplaySource : IFrameSource
{
    private readonly RecordingReader reader;
    private readonly Func<Command, Task> issueCommand;
    private readonly Func<long> framesProcessed;
    private readonly bool realtime;
    private volatile SourceState state = SourceState.Connecting;

    public ReplaySource(string streamId, RecordingReader reader, Func<Command, Task> issueCommand, Func<long> framesProcessed, bool realtime)
    {
        StreamId = streamId;
        this.reader = reader;
        this.issueCommand = issueCommand;
        this.framesProcessed = framesProcessed;
        this.realtime = realtime;
        Uri = string.Join(",", reader.Files);
    }

    public string StreamId { get; }
    public string Uri { get; }
    public SourceState State => state;
    public string? LastError { get; private set; }
    public bool IsLive => false;
    public long FramesSent { get; private set; }
    public long CommandsIssued { get; private set; }

    public async Task RunAsync(Func<Frame, CancellationToken, ValueTask> sink, CancellationToken cancellation)
    {
        state = SourceState.Streaming;
        long? previousLogNs = null;
        var started = DateTime.UtcNow;
        long firstLogNs = 0;
        foreach (var e in reader.ReadEvents())
        {
            cancellation.ThrowIfCancellationRequested();
            if (realtime)
            {
                if (previousLogNs is null) firstLogNs = e.LogTimeUnixNs;
                var due = started + TimeSpan.FromTicks((e.LogTimeUnixNs - firstLogNs) / 100);
                if (due > DateTime.UtcNow) await Task.Delay(due - DateTime.UtcNow, cancellation).ConfigureAwait(false);
            }
            previousLogNs = e.LogTimeUnixNs;
            switch (e)
            {
                case RecordedFrame frame when frame.Header.StreamId == StreamId:
                    var h = frame.Header;
                    var stamp = new FrameStamp(h.StreamId, h.Sequence, h.CaptureTimeUnixNs, h.HasStreamTimestamp ? h.StreamTimestampNs : null);
                    await sink(FrameImageCodec.Decode(frame.Data, stamp), cancellation).ConfigureAwait(false);
                    FramesSent++;
                    break;
                case RecordedCommand { Command: { } command }:
                    while (framesProcessed() < FramesSent) await Task.Delay(2, cancellation).ConfigureAwait(false);
                    await issueCommand(command).ConfigureAwait(false);
                    CommandsIssued++;
                    break;
            }
        }
        if (reader.Problems.Count > 0)
            LastError = string.Join("; ", reader.Problems.Select(p => $"{Path.GetFileName(p.File)}: {p.Problem.Kind} at {p.Problem.Offset} ({p.Problem.Detail})"));
        state = SourceState.Ended;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
