using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using ULlava.Perception.Core.Frames;
using ULlava.Perception.Messages;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Recording.Mcap;
using ULlava.Perception.Recording.Schemas;

namespace ULlava.Perception.Recording.Session;

/// <summary>
/// Records a node session to MCAP. Any thread may enqueue (Record* never blocks and never throws: it returns false
/// when the item was not taken); one writer thread owns the file. A write error (disk full...) stops the recording
/// and leaves <see cref="State"/> = Failed with the reason in <see cref="Error"/>.
/// </summary>
public sealed class SessionRecorder : IDisposable
{
    public const string NodeConfigMetadataName = "ullava.node_config";

    private readonly RecorderOptions _options;
    private readonly BlockingCollection<RecordItem> _queue;
    private readonly Thread _thread;
    private readonly List<string> _files = [];
    private readonly Dictionary<string, RecordItem> _lastCalibration = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private long _queuedBytes;
    private long _dropped;
    private long _messagesWritten;
    private long _bytesWrittenClosedFiles;
    private long _currentFileBytes;
    private volatile RecorderState _state = RecorderState.Recording;
    private volatile string? _error;
    private volatile string _currentPath = "";

    // Owned by the writer thread.
    private McapWriter? _writer;
    private FileStream? _file;
    private readonly Dictionary<string, ushort> _schemaIds = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Topic, string Type), ushort> _channelIds = [];
    private readonly Dictionary<ushort, uint> _sequences = [];
    private long _fileFirstLogTime = long.MinValue;
    private int _fileIndex;

    public SessionRecorder(RecorderOptions options)
    {
        _options = options;
        _queue = new BlockingCollection<RecordItem>(Math.Max(1, options.MaxQueuedItems));
        _thread = new Thread(Run) { Name = "ullava-recorder", IsBackground = true };
        _thread.Start();
    }

    public RecorderState State => _state;

    public string? Error => _error;

    public long DroppedItems => Interlocked.Read(ref _dropped);

    public long MessagesWritten => Interlocked.Read(ref _messagesWritten);

    public long BytesWritten => Interlocked.Read(ref _bytesWrittenClosedFiles) + Interlocked.Read(ref _currentFileBytes);

    /// <summary>Files started so far, in order.</summary>
    public IReadOnlyList<string> Files
    {
        get { lock (_gate) { return _files.ToList(); } }
    }

    public RecordingStatus GetStatus() => new()
    {
        Active = _state == RecorderState.Recording,
        Path = _currentPath,
        BytesWritten = (ulong)BytesWritten,
        MessagesWritten = (ulong)MessagesWritten,
        Error = _error ?? "",
    };

    /// <summary>An input frame, already encoded by the caller ("jpeg" or "png"); log time = capture time.</summary>
    public bool RecordFrame(FrameHeader header, string format, ReadOnlySpan<byte> encoded) =>
        Enqueue(new RecordItem(RecordItemKind.Frame, header.CaptureTimeUnixNs, encoded.ToArray()) { Header = header.Clone(), Format = format });

    /// <summary>A command's bytes as they arrived (even malformed ones); log time = receive time.</summary>
    public bool RecordCommand(ReadOnlySpan<byte> command, long receiveTimeUnixNs) =>
        Enqueue(new RecordItem(RecordItemKind.Command, receiveTimeUnixNs, command.ToArray()));

    /// <summary>A published message: one channel per (topic, type). Results also get Foxglove annotations, calibrations camera info.</summary>
    public bool RecordPublished(string topic, MessageDescriptor type, ReadOnlySpan<byte> payload, long publishTimeUnixNs) =>
        Enqueue(new RecordItem(RecordItemKind.Published, publishTimeUnixNs, payload.ToArray()) { Topic = topic, Type = type });

    public bool RecordPublished(string topic, IMessage message, long publishTimeUnixNs) =>
        RecordPublished(topic, message.Descriptor, message.ToByteArray(), publishTimeUnixNs);

    public bool RecordStatus(NodeStatus status) =>
        RecordPublished(Topics.Status, status, status.TimeUnixNs != 0 ? status.TimeUnixNs : UnixClock.NowNs());

    public bool RecordCalibration(CameraCalibration calibration, long timeUnixNs) =>
        RecordPublished(Topics.Calibration(calibration.StreamId), calibration, timeUnixNs);

    /// <summary>An extra metadata record (the node configuration and model identity are written by themselves).</summary>
    public bool RecordMetadata(string name, IReadOnlyDictionary<string, string> values) =>
        Enqueue(new RecordItem(RecordItemKind.Metadata, 0, []) { Topic = name, Metadata = new Dictionary<string, string>(values) });

    /// <summary>Writes what is queued, finishes the file with its summary and stops the writer thread.</summary>
    public void Stop()
    {
        try
        {
            _queue.CompleteAdding();
        }
        catch (ObjectDisposedException)
        {
        }
        _thread.Join();
    }

    public void Dispose()
    {
        Stop();
        _queue.Dispose();
    }

    private bool Enqueue(RecordItem item)
    {
        if (_state != RecorderState.Recording)
        {
            return false;
        }
        if (Interlocked.Add(ref _queuedBytes, item.Payload.Length) > _options.MaxQueuedBytes)
        {
            Interlocked.Add(ref _queuedBytes, -item.Payload.Length);
            Interlocked.Increment(ref _dropped);
            return false;
        }
        try
        {
            if (_queue.TryAdd(item))
            {
                return true;
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            // Stopped or failed meanwhile.
        }
        Interlocked.Add(ref _queuedBytes, -item.Payload.Length);
        Interlocked.Increment(ref _dropped);
        return false;
    }

    private void Run()
    {
        var sinceFlush = Stopwatch.StartNew();
        try
        {
            OpenNextFile(null);
            while (!_queue.IsCompleted)
            {
                if (_queue.TryTake(out var item, 200))
                {
                    Interlocked.Add(ref _queuedBytes, -item.Payload.Length);
                    RotateIfDue(item);
                    Write(item);
                }
                if (_writer!.PendingChunkBytes > 0 && sinceFlush.Elapsed >= _options.FlushInterval)
                {
                    _writer.Flush();
                    sinceFlush.Restart();
                }
                Interlocked.Exchange(ref _currentFileBytes, _writer.Position);
            }
            CloseFile();
            _state = RecorderState.Stopped;
        }
        catch (Exception e)
        {
            Fail(e);
        }
    }

    private void Fail(Exception e)
    {
        _error = $"recording stopped: {e.GetType().Name}: {e.Message}";
        _state = RecorderState.Failed;
        try
        {
            _queue.CompleteAdding();
        }
        catch (ObjectDisposedException)
        {
        }
        // Best effort: whatever the disk still takes. The file stays readable up to its last complete chunk.
        try
        {
            _file?.Dispose();
        }
        catch (IOException)
        {
        }
        _writer = null;
        _file = null;
        while (_queue.TryTake(out _))
        {
        }
    }

    private void RotateIfDue(RecordItem item)
    {
        if (item.Kind == RecordItemKind.Metadata || _writer!.MessageCount == 0)
        {
            return;
        }
        var bySize = _options.MaxFileBytes > 0 && _writer.Position + _writer.PendingChunkBytes >= _options.MaxFileBytes;
        var byTime = _options.MaxFileDuration > TimeSpan.Zero && _fileFirstLogTime != long.MinValue
            && item.LogTimeUnixNs - _fileFirstLogTime >= _options.MaxFileDuration.Ticks * 100;
        if (bySize || byTime)
        {
            CloseFile();
            OpenNextFile(item.LogTimeUnixNs);
        }
    }

    /// <param name="rotatedAt">Log time of the item that caused a rotation: the carried-over calibration is stamped with it.</param>
    private void OpenNextFile(long? rotatedAt)
    {
        var basePath = _options.Path;
        var directory = Path.GetDirectoryName(Path.GetFullPath(basePath))!;
        Directory.CreateDirectory(directory);
        var stem = Path.GetFileNameWithoutExtension(basePath);
        var extension = Path.GetExtension(basePath) is { Length: > 0 } ext ? ext : ".mcap";
        string path;
        do
        {
            path = Path.Combine(directory, $"{stem}_{_fileIndex++:D3}{extension}");
        }
        while (File.Exists(path));
        _file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 16);
        lock (_gate)
        {
            _files.Add(path);
        }
        _currentPath = path;
        _writer = new McapWriter(_file, new McapWriterOptions { Compression = _options.Compression, ChunkSize = _options.ChunkSize }, ownsStream: false);
        _schemaIds.Clear();
        _channelIds.Clear();
        _sequences.Clear();
        _fileFirstLogTime = long.MinValue;
        // Every file describes itself: configuration, model and the latest calibration of each stream.
        _writer.WriteMetadata(NodeConfigMetadataName, _options.NodeConfiguration);
        if (_options.Model is { } model)
        {
            _writer.WriteMetadata(ModelIdentity.MetadataName, model.ToMetadata());
        }
        foreach (var calibration in _lastCalibration.Values.ToList())
        {
            Write(calibration with { LogTimeUnixNs = rotatedAt ?? calibration.LogTimeUnixNs });
        }
        _writer.Flush();
        Interlocked.Exchange(ref _currentFileBytes, _writer.Position);
    }

    private void CloseFile()
    {
        if (_writer is null)
        {
            return;
        }
        _writer.Finish();
        _file!.Flush(flushToDisk: true);
        _file.Dispose();
        Interlocked.Add(ref _bytesWrittenClosedFiles, _writer.Position);
        Interlocked.Exchange(ref _currentFileBytes, 0);
        _writer = null;
        _file = null;
    }

    private void Write(RecordItem item)
    {
        var writer = _writer!;
        if (item.Kind != RecordItemKind.Metadata && _fileFirstLogTime == long.MinValue)
        {
            _fileFirstLogTime = item.LogTimeUnixNs;
        }
        switch (item.Kind)
        {
            case RecordItemKind.Metadata:
                writer.WriteMetadata(item.Topic, item.Metadata!);
                return;
            case RecordItemKind.Frame:
                var stream = item.Header!.StreamId;
                // Header first, same log time: the replay reader pairs the image that follows with it.
                WriteMessage(RecordingTopics.FrameHeader(stream), FrameHeader.Descriptor, ChannelKind.FrameHeader, stream, item.LogTimeUnixNs,
                    item.Header.ToByteArray());
                WriteMessage(RecordingTopics.Image(stream), Foxglove.CompressedImage.Descriptor, ChannelKind.FrameImage, stream, item.LogTimeUnixNs,
                    FoxgloveConverter.ToCompressedImage(item.Header, item.Format, item.Payload).ToByteArray());
                return;
            case RecordItemKind.Command:
                WriteMessage(RecordingTopics.Commands, Command.Descriptor, ChannelKind.Command, "", item.LogTimeUnixNs, item.Payload);
                return;
            case RecordItemKind.Published:
                WriteMessage(item.Topic, item.Type!, ChannelKind.Published, "", item.LogTimeUnixNs, item.Payload);
                WriteDerived(item);
                return;
        }
    }

    /// <summary>Foxglove views of our messages. A payload that does not parse gets no view; the original is recorded anyway.</summary>
    private void WriteDerived(RecordItem item)
    {
        try
        {
            if (item.Type == InstructionResult.Descriptor)
            {
                var result = InstructionResult.Parser.ParseFrom(item.Payload);
                var stream = result.Header?.StreamId ?? "";
                if (result.Masks.Count + result.Boxes.Count > 0)
                {
                    WriteMessage(RecordingTopics.Annotations(stream), Foxglove.ImageAnnotations.Descriptor, ChannelKind.Derived, stream,
                        item.LogTimeUnixNs, FoxgloveConverter.ToImageAnnotations(result).ToByteArray());
                }
            }
            else if (item.Type == CameraCalibration.Descriptor)
            {
                var calibration = CameraCalibration.Parser.ParseFrom(item.Payload);
                _lastCalibration[calibration.StreamId] = item;
                WriteMessage(RecordingTopics.CameraInfo(calibration.StreamId), Foxglove.CameraCalibration.Descriptor, ChannelKind.Derived,
                    calibration.StreamId, item.LogTimeUnixNs, FoxgloveConverter.ToCameraCalibration(calibration, item.LogTimeUnixNs).ToByteArray());
            }
        }
        catch (InvalidProtocolBufferException)
        {
        }
        catch (ArgumentException)
        {
            // An RLE mask whose counts do not match its size: no outline for it.
        }
    }

    private void WriteMessage(string topic, MessageDescriptor type, string kind, string stream, long logTimeUnixNs, ReadOnlySpan<byte> data)
    {
        var writer = _writer!;
        if (!_channelIds.TryGetValue((topic, type.FullName), out var channelId))
        {
            if (!_schemaIds.TryGetValue(type.FullName, out var schemaId))
            {
                schemaId = writer.AddSchema(type.FullName, ProtobufSchemas.Encoding, ProtobufSchemas.SchemaData(type));
                _schemaIds[type.FullName] = schemaId;
            }
            var metadata = new Dictionary<string, string> { [RecordingTopics.KindKey] = kind };
            if (stream.Length > 0)
            {
                metadata[RecordingTopics.StreamKey] = stream;
            }
            channelId = writer.AddChannel(schemaId, topic, ProtobufSchemas.Encoding, metadata);
            _channelIds[(topic, type.FullName)] = channelId;
        }
        var sequence = _sequences.GetValueOrDefault(channelId);
        _sequences[channelId] = sequence + 1;
        var time = (ulong)Math.Max(0, logTimeUnixNs);
        writer.WriteMessage(channelId, sequence, time, time, data);
        Interlocked.Increment(ref _messagesWritten);
    }
}
