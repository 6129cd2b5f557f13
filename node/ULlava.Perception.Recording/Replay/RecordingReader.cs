using Google.Protobuf;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Recording.Mcap;

namespace ULlava.Perception.Recording.Replay;

/// <summary>
/// Replays a recording: frames, commands and published messages in log-time order, file after file (rotated files
/// are in time order by their index). Unfinished files (a killed node) are read up to their last complete chunk;
/// what was skipped is in <see cref="Problems"/>. Foxglove-only channels (annotations, camera info) are not replayed.
/// </summary>
public sealed class RecordingReader
{
    private readonly List<string> _files;
    private readonly List<(string File, McapProblem Problem)> _problems = [];

    public RecordingReader(IEnumerable<string> files)
    {
        _files = files.ToList();
    }

    /// <summary>A single file, or every rotated file of a session given its base path ("dir/session.mcap" → session_NNN.mcap).</summary>
    public static RecordingReader Open(string path)
    {
        if (File.Exists(path))
        {
            return new RecordingReader([path]);
        }
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var stem = Path.GetFileNameWithoutExtension(path);
        var extension = Path.GetExtension(path) is { Length: > 0 } ext ? ext : ".mcap";
        // Only stem_NNN: "session_extra_000.mcap" belongs to another session.
        var files = Directory.Exists(directory)
            ? Directory.GetFiles(directory, $"{stem}_*{extension}")
                .Where(f => Path.GetFileNameWithoutExtension(f)[(stem.Length + 1)..] is { Length: > 0 and < 18 } index && index.All(char.IsAsciiDigit))
                .OrderBy(f => long.Parse(Path.GetFileNameWithoutExtension(f)[(stem.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture))
                .ToList()
            : [];
        if (files.Count == 0)
        {
            throw new FileNotFoundException($"no recording at {path}", path);
        }
        return new RecordingReader(files);
    }

    public IReadOnlyList<string> Files => _files;

    /// <summary>Problems of the files read so far (CRC mismatches, truncation...), with the file they were in.</summary>
    public IReadOnlyList<(string File, McapProblem Problem)> Problems => _problems;

    /// <summary>Metadata records of every file (node configuration, model identity...).</summary>
    public IReadOnlyList<(string File, McapMetadata Metadata)> ReadMetadata()
    {
        var list = new List<(string, McapMetadata)>();
        foreach (var file in _files)
        {
            using var reader = McapReader.Open(file);
            list.AddRange(reader.ReadMetadata().Select(m => (file, m)));
            Collect(file, reader);
        }
        return list;
    }

    public IEnumerable<RecordedEvent> ReadEvents(long startUnixNs = 0, long endUnixNs = long.MaxValue)
    {
        foreach (var file in _files)
        {
            using var reader = McapReader.Open(file);
            var pendingHeaders = new Dictionary<(string Stream, ulong Time), Queue<FrameHeader>>();
            foreach (var message in reader.ReadMessages((ulong)Math.Max(0, startUnixNs), (ulong)Math.Max(0, endUnixNs)))
            {
                if (!reader.Channels.TryGetValue(message.ChannelId, out var channel))
                {
                    continue;
                }
                var kind = channel.Metadata.GetValueOrDefault(RecordingTopics.KindKey, ChannelKind.Published);
                var time = (long)message.LogTime;
                switch (kind)
                {
                    case ChannelKind.FrameHeader:
                        var header = FrameHeader.Parser.ParseFrom(message.Data.Span);
                        var key = (header.StreamId, message.LogTime);
                        if (!pendingHeaders.TryGetValue(key, out var queue))
                        {
                            pendingHeaders[key] = queue = new Queue<FrameHeader>();
                        }
                        queue.Enqueue(header);
                        break;
                    case ChannelKind.FrameImage:
                        var stream = channel.Metadata.GetValueOrDefault(RecordingTopics.StreamKey, "");
                        var image = Foxglove.CompressedImage.Parser.ParseFrom(message.Data.Span);
                        // An image whose header was lost (it cannot be: both are in one chunk) is skipped rather than guessed.
                        if (pendingHeaders.TryGetValue((stream, message.LogTime), out var headers) && headers.TryDequeue(out var frameHeader))
                        {
                            if (headers.Count == 0)
                            {
                                pendingHeaders.Remove((stream, message.LogTime));
                            }
                            yield return new RecordedFrame(time, frameHeader, image.Format, image.Data.ToByteArray());
                        }
                        break;
                    case ChannelKind.Command:
                        var payload = message.Data.ToArray();
                        Command? command;
                        try
                        {
                            command = Command.Parser.ParseFrom(payload);
                        }
                        catch (InvalidProtocolBufferException)
                        {
                            command = null;
                        }
                        yield return new RecordedCommand(time, payload, command);
                        break;
                    case ChannelKind.Published:
                        var type = reader.Schemas.TryGetValue(channel.SchemaId, out var schema) ? schema.Name : "";
                        yield return new RecordedPublication(time, channel.Topic, type, message.Data.ToArray());
                        break;
                }
            }
            Collect(file, reader);
        }
    }

    private void Collect(string file, McapReader reader)
    {
        foreach (var problem in reader.Problems)
        {
            // Records compare by value: reading a file twice (metadata, then events) reports each problem once.
            if (!_problems.Contains((file, problem)))
            {
                _problems.Add((file, problem));
            }
        }
    }
}
