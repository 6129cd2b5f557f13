using System.Collections.Concurrent;
using System.Globalization;
using ULlava.Perception.Core.Inference;
using ULlava.Perception.Messages;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Node.Commands;
using ULlava.Perception.Node.Hosting;
using ULlava.Perception.Node.Pipeline;
using ULlava.Perception.Recording.Replay;

namespace ULlava.Perception.Node.Replay;

/// <summary>
/// Replays a recording through a node built on <paramref name="engine"/>: the recorded frames and commands go in,
/// and every result that comes out is compared with the recorded one (same stream, frame and instruction):
/// text and masks exactly, boxes and scores within 1e-4.
/// </summary>
public static class ReplayRunner
{
    public static async Task<ReplayReport> RunAsync(string path, IInferenceEngine engine, bool realtime, string publishEndpoint, TextWriter output, CancellationToken cancellation)
    {
        var reader = RecordingReader.Open(path);
        var metadata = reader.ReadMetadata().Select(m => m.Metadata).FirstOrDefault(m => m.Name == ReplayMetadata.InstructionsName);
        var recorded = new Dictionary<string, InstructionResult>();
        var streams = new List<string>();
        var readableFrames = new HashSet<(string Stream, ulong Sequence)>();
        foreach (var e in reader.ReadEvents())
        {
            if (e is RecordedFrame f)
            {
                if (!streams.Contains(f.Header.StreamId)) streams.Add(f.Header.StreamId);
                readableFrames.Add((f.Header.StreamId, f.Header.Sequence));
            }
            if (e is RecordedPublication p && p.Topic.EndsWith("/results", StringComparison.Ordinal))
            {
                var r = InstructionResult.Parser.ParseFrom(p.Payload);
                recorded[Key(r)] = r;
            }
        }
        if (streams.Count == 0) throw new InvalidDataException($"{path}: the recording holds no frames");

        var instructions = metadata is null ? new List<Instructions.StandingInstruction>() : ReplayMetadata.ReadInstructions(metadata.Values, streams);
        var replayed = new ConcurrentDictionary<string, InstructionResult>();
        var sources = new List<ReplaySource>();
        PerceptionNode? node = null;
        NodeCommandHandler? handler = null;
        var options = new NodeOptions
        {
            Sources = streams.Select(s => new SourceSpec(s, path)).ToList(),
            Instructions = instructions,
            PublishEndpoint = publishEndpoint,
            CommandEndpoint = null,
            PrintFrames = true,
        };
        node = new PerceptionNode(options, engine, spec =>
        {
            // The first stream's source re-issues the commands (between the same frames as when recorded).
            var source = new ReplaySource(spec.StreamId, RecordingReader.Open(path),
                issueCommand: sources.Count == 0 ? c => handler!.HandleAsync(c, cancellation) : _ => Task.CompletedTask,
                framesProcessed: () => node!.FramesProcessed, realtime);
            sources.Add(source);
            return source;
        }, output);
        handler = new NodeCommandHandler(node);
        node.Published += (topic, message) =>
        {
            if (message is InstructionResult r && topic.EndsWith("/results", StringComparison.Ordinal)) replayed[Key(r)] = r;
        };
        await node.RunAsync(cancellation).ConfigureAwait(false);

        int compared = 0, differences = 0, withoutFrame = 0;
        string? first = null;
        foreach (var (key, expected) in recorded.OrderBy(kv => kv.Value.Header.CaptureTimeUnixNs))
        {
            if (!readableFrames.Contains((expected.Header.StreamId, expected.Header.Sequence)))
            {
                // A damaged or cut recording: the result survived, its frame did not, so there is nothing to replay.
                withoutFrame++;
                continue;
            }
            compared++;
            string? difference = replayed.TryGetValue(key, out var actual) ? Compare(expected, actual) : "no result in the replay";
            if (difference is null) continue;
            differences++;
            first ??= $"{key}: {difference}";
        }
        var problems = reader.Problems.Select(p => $"{Path.GetFileName(p.File)}: {p.Problem.Kind} at byte {p.Problem.Offset} ({p.Problem.Detail})").ToList();
        return new ReplayReport(sources.Sum(s => (int)s.FramesSent), sources.Sum(s => (int)s.CommandsIssued), compared, differences, first, problems, withoutFrame);
    }

    private static string Key(InstructionResult r) => $"{r.Header.StreamId} #{r.Header.Sequence} {r.InstructionId}";

    /// <summary>The first way two results differ, or null.</summary>
    public static string? Compare(InstructionResult expected, InstructionResult actual)
    {
        if (expected.Text != actual.Text) return $"text \"{actual.Text}\" vs recorded \"{expected.Text}\"";
        if (expected.Error != actual.Error) return $"error \"{actual.Error}\" vs recorded \"{expected.Error}\"";
        if (expected.Masks.Count != actual.Masks.Count) return $"{actual.Masks.Count} masks vs {expected.Masks.Count} recorded";
        for (int i = 0; i < expected.Masks.Count; i++)
        {
            if (!expected.Masks[i].Rle.Equals(actual.Masks[i].Rle)) return $"mask {i} pixels differ (area {actual.Masks[i].Area} vs {expected.Masks[i].Area})";
            if (Math.Abs(expected.Masks[i].Score - actual.Masks[i].Score) > 1e-4) return $"mask {i} score {actual.Masks[i].Score} vs {expected.Masks[i].Score}";
        }
        if (expected.Boxes.Count != actual.Boxes.Count) return $"{actual.Boxes.Count} boxes vs {expected.Boxes.Count} recorded";
        for (int i = 0; i < expected.Boxes.Count; i++)
        {
            var (e, a) = (expected.Boxes[i].Pixels, actual.Boxes[i].Pixels);
            if (Math.Abs(e.XMin - a.XMin) > 1e-4 || Math.Abs(e.YMin - a.YMin) > 1e-4 || Math.Abs(e.XMax - a.XMax) > 1e-4 || Math.Abs(e.YMax - a.YMax) > 1e-4)
                return string.Create(CultureInfo.InvariantCulture, $"box {i} [{a.XMin},{a.YMin},{a.XMax},{a.YMax}] vs recorded [{e.XMin},{e.YMin},{e.XMax},{e.YMax}]");
        }
        return null;
    }
}
