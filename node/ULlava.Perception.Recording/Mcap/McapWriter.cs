using System.IO.Hashing;

namespace ULlava.Perception.Recording.Mcap;

/// <summary>
/// Writes an indexed, chunked MCAP file to a stream (seeking is never needed). Messages are buffered into a chunk;
/// each closed chunk is written with its message indexes and the stream flushed, so a killed process leaves a file
/// readable up to its last complete chunk. Schemas, channels, metadata and attachments go straight to the data section.
/// Not thread-safe: one thread owns a writer.
/// </summary>
public sealed class McapWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly McapWriterOptions _options;
    private readonly ByteSink _record = new();
    private readonly ByteSink _chunk;
    private readonly Crc32 _dataCrc = new();
    private readonly List<McapSchema> _schemas = [];
    private readonly List<McapChannel> _channels = [];
    private readonly List<McapChunkIndex> _chunkIndexes = [];
    private readonly List<McapMetadataIndex> _metadataIndexes = [];
    private readonly List<McapAttachmentIndex> _attachmentIndexes = [];
    private readonly Dictionary<ushort, ulong> _channelCounts = [];
    private readonly SortedDictionary<ushort, List<(ulong LogTime, ulong Offset)>> _chunkMessageIndex = [];
    private ulong _chunkStart = ulong.MaxValue;
    private ulong _chunkEnd;
    private ulong _messageCount;
    private ulong _messageStart = ulong.MaxValue;
    private ulong _messageEnd;
    private uint _metadataCount;
    private uint _attachmentCount;
    private bool _finished;

    public McapWriter(Stream stream, McapWriterOptions? options = null, bool ownsStream = true)
    {
        _options = options ?? new McapWriterOptions();
        if (!McapCompression.IsSupported(_options.Compression))
        {
            throw new ArgumentException($"unsupported compression '{_options.Compression}'", nameof(options));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.ChunkSize, 1, nameof(options));
        _stream = stream;
        _ownsStream = ownsStream;
        _chunk = new ByteSink(Math.Min(_options.ChunkSize + 4096, 64 << 20));
        Emit(McapFormat.Magic, inDataSection: true);
        McapRecords.WriteHeader(_record, new McapHeader(_options.Profile, _options.Library));
        EmitRecord();
    }

    /// <summary>Bytes handed to the stream so far.</summary>
    public long Position { get; private set; }

    /// <summary>Uncompressed bytes waiting in the open chunk: they reach the file when the chunk closes.</summary>
    public int PendingChunkBytes => _chunk.Length;

    public ulong MessageCount => _messageCount;

    public IReadOnlyList<McapChunkIndex> ChunkIndexes => _chunkIndexes;

    public ushort AddSchema(string name, string encoding, ReadOnlySpan<byte> data)
    {
        ThrowIfFinished();
        var schema = new McapSchema(checked((ushort)(_schemas.Count + 1)), name, encoding, data.ToArray());
        _schemas.Add(schema);
        McapRecords.WriteSchema(_record, schema);
        EmitRecord();
        return schema.Id;
    }

    public ushort AddChannel(ushort schemaId, string topic, string messageEncoding, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ThrowIfFinished();
        if (schemaId != 0 && schemaId > _schemas.Count)
        {
            throw new ArgumentException($"unknown schema id {schemaId}", nameof(schemaId));
        }
        var channel = new McapChannel(checked((ushort)_channels.Count), schemaId, topic, messageEncoding,
            metadata ?? new Dictionary<string, string>());
        _channels.Add(channel);
        McapRecords.WriteChannel(_record, channel);
        EmitRecord();
        return channel.Id;
    }

    public void WriteMessage(ushort channelId, uint sequence, ulong logTime, ulong publishTime, ReadOnlySpan<byte> data)
    {
        ThrowIfFinished();
        if (channelId >= _channels.Count)
        {
            throw new ArgumentException($"unknown channel id {channelId}", nameof(channelId));
        }
        if (!_chunkMessageIndex.TryGetValue(channelId, out var entries))
        {
            entries = [];
            _chunkMessageIndex[channelId] = entries;
        }
        entries.Add((logTime, (ulong)_chunk.Length));
        McapRecords.WriteMessage(_chunk, channelId, sequence, logTime, publishTime, data);
        _chunkStart = Math.Min(_chunkStart, logTime);
        _chunkEnd = Math.Max(_chunkEnd, logTime);
        _messageStart = Math.Min(_messageStart, logTime);
        _messageEnd = Math.Max(_messageEnd, logTime);
        _messageCount++;
        _channelCounts[channelId] = _channelCounts.GetValueOrDefault(channelId) + 1;
        if (_chunk.Length >= _options.ChunkSize)
        {
            CloseChunk();
        }
    }

    public void WriteMetadata(string name, IReadOnlyDictionary<string, string> values)
    {
        ThrowIfFinished();
        var offset = (ulong)Position;
        McapRecords.WriteMetadata(_record, new McapMetadata(name, values));
        var length = (ulong)_record.Length;
        EmitRecord();
        _metadataIndexes.Add(new McapMetadataIndex(offset, length, name));
        _metadataCount++;
    }

    public void WriteAttachment(string name, string mediaType, ulong logTime, ulong createTime, ReadOnlySpan<byte> data)
    {
        ThrowIfFinished();
        var offset = (ulong)Position;
        McapRecords.WriteAttachment(_record, new McapAttachment(logTime, createTime, name, mediaType, data.ToArray()));
        var length = (ulong)_record.Length;
        EmitRecord();
        _attachmentIndexes.Add(new McapAttachmentIndex(offset, length, logTime, createTime, (ulong)data.Length, name, mediaType));
        _attachmentCount++;
    }

    /// <summary>Closes the open chunk and flushes the stream: everything written so far survives a kill.</summary>
    public void Flush()
    {
        ThrowIfFinished();
        CloseChunk();
        _stream.Flush();
    }

    /// <summary>Writes the last chunk, DataEnd, the summary, the footer and the closing magic.</summary>
    public void Finish()
    {
        if (_finished)
        {
            return;
        }
        CloseChunk();
        McapRecords.WriteDataEnd(_record, _dataCrc.GetCurrentHashAsUInt32());
        EmitRecord();
        _finished = true;

        var summaryStart = (ulong)Position;
        var summaryCrc = new Crc32();
        var offsets = new List<McapSummaryOffset>();
        void Group(McapOpcode opcode, Action write)
        {
            var start = (ulong)Position;
            write();
            if ((ulong)Position > start)
            {
                offsets.Add(new McapSummaryOffset(opcode, start, (ulong)Position - start));
            }
        }
        void Summary() { summaryCrc.Append(_record.WrittenSpan); EmitRecord(inDataSection: false); }

        Group(McapOpcode.Schema, () => _schemas.ForEach(s => { McapRecords.WriteSchema(_record, s); Summary(); }));
        Group(McapOpcode.Channel, () => _channels.ForEach(c => { McapRecords.WriteChannel(_record, c); Summary(); }));
        Group(McapOpcode.Statistics, () =>
        {
            McapRecords.WriteStatistics(_record, new McapStatistics(_messageCount, (ushort)_schemas.Count, (uint)_channels.Count,
                _attachmentCount, _metadataCount, (uint)_chunkIndexes.Count, _messageCount == 0 ? 0 : _messageStart, _messageEnd,
                _channelCounts));
            Summary();
        });
        Group(McapOpcode.ChunkIndex, () => _chunkIndexes.ForEach(c => { McapRecords.WriteChunkIndex(_record, c); Summary(); }));
        Group(McapOpcode.AttachmentIndex, () => _attachmentIndexes.ForEach(a => { McapRecords.WriteAttachmentIndex(_record, a); Summary(); }));
        Group(McapOpcode.MetadataIndex, () => _metadataIndexes.ForEach(m => { McapRecords.WriteMetadataIndex(_record, m); Summary(); }));

        var summaryOffsetStart = (ulong)Position;
        foreach (var offset in offsets)
        {
            McapRecords.WriteSummaryOffset(_record, offset);
            Summary();
        }

        // The footer's CRC covers the summary, the summary offsets and the footer up to (not including) the CRC itself.
        _record.U8((byte)McapOpcode.Footer);
        _record.U64(McapFormat.FooterContentLength);
        _record.U64(summaryStart);
        _record.U64(summaryOffsetStart);
        summaryCrc.Append(_record.WrittenSpan);
        _record.U32(summaryCrc.GetCurrentHashAsUInt32());
        EmitRecord(inDataSection: false);
        Emit(McapFormat.Magic, inDataSection: false);
        _stream.Flush();
    }

    public void Dispose()
    {
        if (_ownsStream)
        {
            _stream.Dispose();
        }
    }

    private void CloseChunk()
    {
        if (_chunk.Length == 0)
        {
            return;
        }
        var uncompressed = _chunk.WrittenSpan;
        var compressed = _options.Compression == McapFormat.CompressionNone
            ? uncompressed
            : McapCompression.Compress(_options.Compression, uncompressed, _options.ZstdLevel);
        var chunkOffset = (ulong)Position;
        McapRecords.WriteChunk(_record, _chunkStart, _chunkEnd, (ulong)uncompressed.Length, Crc32.HashToUInt32(uncompressed),
            _options.Compression, compressed);
        var chunkLength = (ulong)_record.Length;
        EmitRecord();

        var indexOffsets = new Dictionary<ushort, ulong>();
        var indexStart = (ulong)Position;
        foreach (var (channelId, entries) in _chunkMessageIndex)
        {
            indexOffsets[channelId] = (ulong)Position;
            // Readers may binary-search an index, so it is kept in log-time order (stable for equal times).
            var sorted = entries.Select((e, i) => (e, i)).OrderBy(x => x.e.LogTime).ThenBy(x => x.i).Select(x => x.e).ToList();
            McapRecords.WriteMessageIndex(_record, new McapMessageIndex(channelId, sorted));
            EmitRecord();
        }
        _chunkIndexes.Add(new McapChunkIndex(_chunkStart, _chunkEnd, chunkOffset, chunkLength, indexOffsets, (ulong)Position - indexStart,
            _options.Compression, (ulong)compressed.Length, (ulong)uncompressed.Length));

        _chunk.Clear();
        _chunkMessageIndex.Clear();
        _chunkStart = ulong.MaxValue;
        _chunkEnd = 0;
        _stream.Flush();
    }

    private void EmitRecord(bool inDataSection = true)
    {
        Emit(_record.WrittenSpan, inDataSection);
        _record.Clear();
    }

    private void Emit(ReadOnlySpan<byte> bytes, bool inDataSection)
    {
        _stream.Write(bytes);
        if (inDataSection)
        {
            _dataCrc.Append(bytes);
        }
        Position += bytes.Length;
    }

    private void ThrowIfFinished() => ObjectDisposedException.ThrowIf(_finished, this);
}
