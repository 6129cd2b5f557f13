using System.Buffers.Binary;
using System.IO.Hashing;

namespace ULlava.Perception.Recording.Mcap;

/// <summary>
/// Reads an MCAP file. A complete file is read through its summary: chunks are found by their index and only those
/// overlapping the asked time range are read. A file without one (a killed writer) is stream-scanned up to its last
/// complete record. Every CRC that is present is checked; a mismatch, a truncation or a malformed record is recorded in
/// <see cref="Problems"/> and the affected chunk skipped, never returned as good data.
/// </summary>
public sealed class McapReader : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly long _length;
    private readonly Dictionary<ushort, McapSchema> _schemas = [];
    private readonly Dictionary<ushort, McapChannel> _channels = [];
    private readonly List<McapChunkIndex> _chunkIndexes = [];
    private readonly List<McapMetadataIndex> _metadataIndexes = [];
    private readonly List<McapAttachmentIndex> _attachmentIndexes = [];
    private readonly List<McapProblem> _problems = [];
    private readonly List<McapMetadata> _scannedMetadata = [];
    private readonly List<McapAttachment> _scannedAttachments = [];
    private readonly long _dataStart;
    private bool _scanned;

    public McapReader(Stream stream, bool ownsStream = true)
    {
        if (!stream.CanSeek || !stream.CanRead)
        {
            throw new ArgumentException("an MCAP reader needs a readable, seekable stream", nameof(stream));
        }
        _stream = stream;
        _ownsStream = ownsStream;
        _length = stream.Length;
        Span<byte> magic = stackalloc byte[8];
        if (_length < 8 || ReadAt(0, magic) < 8 || !magic.SequenceEqual(McapFormat.Magic))
        {
            throw new McapFormatException("not an MCAP file (leading magic missing)");
        }
        _dataStart = 8;
        if (ReadRecordAt(8, out var opcode, out var content, out _) && opcode == McapOpcode.Header)
        {
            Header = McapRecords.ParseHeader(content);
            _dataStart = 8 + McapFormat.RecordPrefixLength + content.Length;
        }
        // Otherwise Header stays null; the scan reports the header record as truncated.
        LoadSummary();
    }

    public static McapReader Open(string path) =>
        new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16));

    public McapHeader? Header { get; }

    public McapFooter? Footer { get; private set; }

    public McapStatistics? Statistics { get; private set; }

    /// <summary>True when the summary was present and its CRC checked: messages are then read by chunk index.</summary>
    public bool HasSummary { get; private set; }

    public IReadOnlyDictionary<ushort, McapSchema> Schemas => _schemas;

    public IReadOnlyDictionary<ushort, McapChannel> Channels => _channels;

    public IReadOnlyList<McapChunkIndex> ChunkIndexes => _chunkIndexes;

    public IReadOnlyList<McapMetadataIndex> MetadataIndexes => _metadataIndexes;

    public IReadOnlyList<McapAttachmentIndex> AttachmentIndexes => _attachmentIndexes;

    public IReadOnlyList<McapProblem> Problems => _problems;

    /// <summary>After a scan: file offset just past the last complete record that was read.</summary>
    public long ScanValidLength { get; private set; }

    /// <summary>After a scan: whether it reached DataEnd (the writer finished its data section).</summary>
    public bool ScanReachedDataEnd { get; private set; }

    /// <summary>After a scan: chunks read whole, with their CRC checked.</summary>
    public int ScannedChunks { get; private set; }

    public bool HasProblem(McapProblemKind kind) => _problems.Any(p => p.Kind == kind);

    /// <summary>
    /// Messages with start &lt;= log time &lt;= end in log-time order (file order among equal times). Through the summary
    /// chunks are read lazily, one merge step ahead; without one the data section is scanned and sorted.
    /// </summary>
    public IEnumerable<McapMessage> ReadMessages(ulong startTime = 0, ulong endTime = ulong.MaxValue, IReadOnlySet<ushort>? channelIds = null)
    {
        bool Wanted(McapMessage m) => m.LogTime >= startTime && m.LogTime <= endTime && (channelIds is null || channelIds.Contains(m.ChannelId));
        if (!HasSummary)
        {
            return ScanMessages().Where(Wanted).OrderBy(m => m.LogTime).ToList();
        }
        return ReadIndexed(startTime, endTime, Wanted);
    }

    private IEnumerable<McapMessage> ReadIndexed(ulong startTime, ulong endTime, Func<McapMessage, bool> wanted)
    {
        var chunks = _chunkIndexes
            .Where(c => c.MessageEndTime >= startTime && c.MessageStartTime <= endTime)
            .OrderBy(c => c.MessageStartTime).ThenBy(c => c.ChunkStartOffset)
            .ToList();
        // Ties on log time go by file position (chunk offset, then place in the chunk): file order.
        var heap = new PriorityQueue<McapMessage, (ulong Time, ulong ChunkOffset, int Index)>();
        var next = 0;
        while (true)
        {
            // A chunk starting after the earliest queued message cannot hold anything that sorts before it.
            while (next < chunks.Count && (!heap.TryPeek(out _, out var head) || chunks[next].MessageStartTime <= head.Time))
            {
                var index = 0;
                foreach (var message in ReadChunkAt(chunks[next]))
                {
                    if (wanted(message))
                    {
                        heap.Enqueue(message, (message.LogTime, chunks[next].ChunkStartOffset, index));
                    }
                    index++;
                }
                next++;
            }
            if (!heap.TryDequeue(out var earliest, out _))
            {
                yield break;
            }
            yield return earliest;
        }
    }

    /// <summary>
    /// Every message in file order by walking the data section record by record (no summary needed). Stops at DataEnd,
    /// at the end of the file, or at a record that runs past it (reported as <see cref="McapProblemKind.Truncated"/>).
    /// </summary>
    public IEnumerable<McapMessage> ScanMessages()
    {
        _scannedMetadata.Clear();
        _scannedAttachments.Clear();
        ScannedChunks = 0;
        ScanReachedDataEnd = false;
        var offset = _dataStart;
        ScanValidLength = offset;
        var prefix = new byte[McapFormat.RecordPrefixLength];
        while (offset < _length)
        {
            if (_length - offset < McapFormat.RecordPrefixLength)
            {
                AddProblem(new McapProblem(McapProblemKind.Truncated, offset, "file ends inside a record prefix", _length - offset));
                break;
            }
            ReadAt(offset, prefix);
            var opcode = (McapOpcode)prefix[0];
            var length = BinaryPrimitives.ReadUInt64LittleEndian(prefix.AsSpan(1));
            var end = offset + McapFormat.RecordPrefixLength + (long)Math.Min(length, (ulong)long.MaxValue / 2);
            if (length > int.MaxValue || end > _length)
            {
                AddProblem(new McapProblem(McapProblemKind.Truncated, offset,
                    $"{opcode} record of {length} bytes runs past the end of the file", _length - offset));
                break;
            }
            var content = new byte[length];
            ReadAt(offset + McapFormat.RecordPrefixLength, content);
            ScanValidLength = end;
            if (opcode == McapOpcode.DataEnd)
            {
                ScanReachedDataEnd = true;
                break;
            }
            foreach (var message in HandleDataRecord(opcode, content, offset))
            {
                yield return message;
            }
            offset = end;
        }
        _scanned = true;
        if (!ScanReachedDataEnd && !HasProblem(McapProblemKind.Truncated) && offset >= _length)
        {
            AddProblem(new McapProblem(McapProblemKind.Truncated, offset, "file ends without DataEnd"));
        }
    }

    /// <summary>Metadata records: by the summary's index when there is one, else by a scan.</summary>
    public IReadOnlyList<McapMetadata> ReadMetadata()
    {
        if (!HasSummary)
        {
            EnsureScanned();
            return _scannedMetadata.ToList();
        }
        var list = new List<McapMetadata>();
        foreach (var index in _metadataIndexes)
        {
            if (ReadRecordAt((long)index.Offset, out var opcode, out var content, out _) && opcode == McapOpcode.Metadata)
            {
                list.Add(McapRecords.ParseMetadata(content));
            }
            else
            {
                AddProblem(new McapProblem(McapProblemKind.Malformed, (long)index.Offset, "metadata index points at no metadata record"));
            }
        }
        return list;
    }

    public IReadOnlyList<McapAttachment> ReadAttachments()
    {
        if (!HasSummary)
        {
            EnsureScanned();
            return _scannedAttachments.ToList();
        }
        var list = new List<McapAttachment>();
        foreach (var index in _attachmentIndexes)
        {
            if (ReadRecordAt((long)index.Offset, out var opcode, out var content, out _) && opcode == McapOpcode.Attachment)
            {
                var attachment = McapRecords.ParseAttachment(content, out var crcOk);
                if (crcOk)
                {
                    list.Add(attachment);
                }
                else
                {
                    AddProblem(new McapProblem(McapProblemKind.AttachmentCrcMismatch, (long)index.Offset, attachment.Name));
                }
            }
        }
        return list;
    }

    /// <summary>
    /// Recomputes the CRC of everything before DataEnd and compares it with the one stored there.
    /// Null when the file has no DataEnd or its CRC is zero (not computed).
    /// </summary>
    public bool? VerifyDataSectionCrc()
    {
        long dataEnd;
        if (HasSummary)
        {
            dataEnd = (long)Footer!.SummaryStart - (McapFormat.RecordPrefixLength + 4);
        }
        else
        {
            EnsureScanned();
            if (!ScanReachedDataEnd)
            {
                return null;
            }
            dataEnd = ScanValidLength - (McapFormat.RecordPrefixLength + 4);
        }
        if (dataEnd < 8 || !ReadRecordAt(dataEnd, out var opcode, out var content, out _) || opcode != McapOpcode.DataEnd)
        {
            AddProblem(new McapProblem(McapProblemKind.Malformed, dataEnd, "no DataEnd record before the summary"));
            return false;
        }
        var stored = McapRecords.ParseDataEnd(content);
        if (stored == 0)
        {
            return null;
        }
        var crc = new Crc32();
        var buffer = new byte[1 << 20];
        for (long at = 0; at < dataEnd;)
        {
            var read = ReadAt(at, buffer.AsSpan(0, (int)Math.Min(buffer.Length, dataEnd - at)));
            crc.Append(buffer.AsSpan(0, read));
            at += read;
        }
        var ok = crc.GetCurrentHashAsUInt32() == stored;
        if (!ok)
        {
            AddProblem(new McapProblem(McapProblemKind.DataSectionCrcMismatch, dataEnd,
                $"stored {stored:x8}, computed {crc.GetCurrentHashAsUInt32():x8}"));
        }
        return ok;
    }

    public void Dispose()
    {
        if (_ownsStream)
        {
            _stream.Dispose();
        }
    }

    /// <summary>Reading twice (say metadata, then messages) must not report the same problem twice.</summary>
    private void AddProblem(McapProblem problem)
    {
        if (!_problems.Contains(problem))
        {
            _problems.Add(problem);
        }
    }

    private void EnsureScanned()
    {
        if (!_scanned)
        {
            foreach (var _ in ScanMessages())
            {
            }
        }
    }

    private IEnumerable<McapMessage> HandleDataRecord(McapOpcode opcode, byte[] content, long offset)
    {
        try
        {
            switch (opcode)
            {
                case McapOpcode.Chunk:
                    var messages = DecodeChunk(content, offset);
                    if (messages is not null)
                    {
                        ScannedChunks++;
                        return messages;
                    }
                    break;
                case McapOpcode.Message:
                    return [McapRecords.ParseMessage(content)];
                case McapOpcode.Metadata:
                    _scannedMetadata.Add(McapRecords.ParseMetadata(content));
                    break;
                case McapOpcode.Attachment:
                    var attachment = McapRecords.ParseAttachment(content, out var crcOk);
                    if (crcOk)
                    {
                        _scannedAttachments.Add(attachment);
                    }
                    else
                    {
                        AddProblem(new McapProblem(McapProblemKind.AttachmentCrcMismatch, offset, attachment.Name));
                    }
                    break;
                default:
                    RegisterDefinition(opcode, content);
                    break;
            }
        }
        catch (McapFormatException e)
        {
            AddProblem(new McapProblem(McapProblemKind.Malformed, offset, $"{opcode}: {e.Message}", McapFormat.RecordPrefixLength + content.Length));
        }
        return [];
    }

    /// <summary>Schemas and channels may appear anywhere: the data section, chunks or the summary. Other records are skipped.</summary>
    private void RegisterDefinition(McapOpcode opcode, ReadOnlySpan<byte> content)
    {
        if (opcode == McapOpcode.Schema)
        {
            var schema = McapRecords.ParseSchema(content);
            _schemas[schema.Id] = schema;
        }
        else if (opcode == McapOpcode.Channel)
        {
            var channel = McapRecords.ParseChannel(content);
            _channels[channel.Id] = channel;
        }
    }

    private List<McapMessage> ReadChunkAt(McapChunkIndex index)
    {
        var offset = (long)index.ChunkStartOffset;
        if (!ReadRecordAt(offset, out var opcode, out var content, out _) || opcode != McapOpcode.Chunk)
        {
            AddProblem(new McapProblem(McapProblemKind.Malformed, offset, "chunk index points at no chunk record"));
            return [];
        }
        try
        {
            return DecodeChunk(content, offset) ?? [];
        }
        catch (McapFormatException e)
        {
            AddProblem(new McapProblem(McapProblemKind.Malformed, offset, $"chunk: {e.Message}", (long)index.ChunkLength));
            return [];
        }
    }

    /// <summary>Null (and a problem recorded) when the chunk's CRC does not match or it does not decompress.</summary>
    private List<McapMessage>? DecodeChunk(byte[] content, long offset)
    {
        var r = new SpanReader(content);
        r.U64("chunk.message_start_time");
        r.U64("chunk.message_end_time");
        var uncompressedSize = r.U64("chunk.uncompressed_size");
        var crc = r.U32("chunk.uncompressed_crc");
        var compression = r.String("chunk.compression");
        byte[] records;
        try
        {
            records = McapCompression.Decompress(compression, r.Bytes64("chunk.records"), uncompressedSize);
        }
        catch (McapFormatException e)
        {
            AddProblem(new McapProblem(McapProblemKind.Malformed, offset, $"chunk does not decompress: {e.Message}",
                McapFormat.RecordPrefixLength + content.Length));
            return null;
        }
        if (crc != 0)
        {
            var actual = Crc32.HashToUInt32(records);
            if (actual != crc)
            {
                AddProblem(new McapProblem(McapProblemKind.ChunkCrcMismatch, offset, $"stored {crc:x8}, computed {actual:x8}",
                    McapFormat.RecordPrefixLength + content.Length));
                return null;
            }
        }
        var messages = new List<McapMessage>();
        var memory = records.AsMemory();
        var at = 0;
        while (at < records.Length)
        {
            if (records.Length - at < McapFormat.RecordPrefixLength)
            {
                throw new McapFormatException($"chunk ends inside a record prefix at {at}");
            }
            var opcode = (McapOpcode)records[at];
            var length = BinaryPrimitives.ReadUInt64LittleEndian(records.AsSpan(at + 1, 8));
            if (length > (ulong)(records.Length - at - McapFormat.RecordPrefixLength))
            {
                throw new McapFormatException($"chunk record at {at} runs past the chunk");
            }
            var inner = memory.Slice(at + McapFormat.RecordPrefixLength, (int)length);
            if (opcode == McapOpcode.Message)
            {
                messages.Add(McapRecords.ParseMessage(inner));
            }
            else
            {
                RegisterDefinition(opcode, inner.Span);
            }
            at += McapFormat.RecordPrefixLength + (int)length;
        }
        return messages;
    }

    private void LoadSummary()
    {
        if (_length < _dataStart + McapFormat.TailLength)
        {
            AddProblem(new McapProblem(McapProblemKind.NoSummary, _length, "file too short for a footer: not closed"));
            return;
        }
        var tail = new byte[McapFormat.TailLength];
        ReadAt(_length - McapFormat.TailLength, tail);
        var footerOffset = _length - McapFormat.TailLength;
        if (!tail.AsSpan(McapFormat.TailLength - 8).SequenceEqual(McapFormat.Magic) || tail[0] != (byte)McapOpcode.Footer
            || BinaryPrimitives.ReadUInt64LittleEndian(tail.AsSpan(1)) != McapFormat.FooterContentLength)
        {
            AddProblem(new McapProblem(McapProblemKind.NoSummary, footerOffset, "no footer and closing magic: the writer did not finish"));
            return;
        }
        Footer = McapRecords.ParseFooter(tail.AsSpan(McapFormat.RecordPrefixLength, McapFormat.FooterContentLength));
        if (Footer.SummaryStart == 0)
        {
            AddProblem(new McapProblem(McapProblemKind.NoSummary, footerOffset, "footer says the file has no summary"));
            return;
        }
        if (Footer.SummaryStart < (ulong)_dataStart || Footer.SummaryStart > (ulong)footerOffset)
        {
            AddProblem(new McapProblem(McapProblemKind.Malformed, footerOffset, $"summary start {Footer.SummaryStart} is outside the file"));
            return;
        }
        var summaryStart = (long)Footer.SummaryStart;
        var summary = new byte[footerOffset - summaryStart];
        ReadAt(summaryStart, summary);
        if (Footer.SummaryCrc != 0)
        {
            var crc = new Crc32();
            crc.Append(summary);
            crc.Append(tail.AsSpan(0, McapFormat.RecordPrefixLength + 16));
            if (crc.GetCurrentHashAsUInt32() != Footer.SummaryCrc)
            {
                AddProblem(new McapProblem(McapProblemKind.SummaryCrcMismatch, summaryStart, "summary CRC does not match: scanning instead"));
                return;
            }
        }
        var schemas = new List<McapSchema>();
        var channels = new List<McapChannel>();
        try
        {
            var at = 0;
            while (at < summary.Length)
            {
                if (summary.Length - at < McapFormat.RecordPrefixLength)
                {
                    throw new McapFormatException("summary ends inside a record prefix");
                }
                var opcode = (McapOpcode)summary[at];
                var length = BinaryPrimitives.ReadUInt64LittleEndian(summary.AsSpan(at + 1, 8));
                if (length > (ulong)(summary.Length - at - McapFormat.RecordPrefixLength))
                {
                    throw new McapFormatException($"summary record at {summaryStart + at} runs past the summary");
                }
                var content = summary.AsSpan(at + McapFormat.RecordPrefixLength, (int)length);
                switch (opcode)
                {
                    case McapOpcode.Schema: schemas.Add(McapRecords.ParseSchema(content)); break;
                    case McapOpcode.Channel: channels.Add(McapRecords.ParseChannel(content)); break;
                    case McapOpcode.ChunkIndex: _chunkIndexes.Add(McapRecords.ParseChunkIndex(content)); break;
                    case McapOpcode.MetadataIndex: _metadataIndexes.Add(McapRecords.ParseMetadataIndex(content)); break;
                    case McapOpcode.AttachmentIndex: _attachmentIndexes.Add(McapRecords.ParseAttachmentIndex(content)); break;
                    case McapOpcode.Statistics: Statistics = McapRecords.ParseStatistics(content); break;
                }
                at += McapFormat.RecordPrefixLength + (int)length;
            }
        }
        catch (McapFormatException e)
        {
            AddProblem(new McapProblem(McapProblemKind.Malformed, summaryStart, $"summary: {e.Message}: scanning instead"));
            _chunkIndexes.Clear();
            _metadataIndexes.Clear();
            _attachmentIndexes.Clear();
            Statistics = null;
            return;
        }
        schemas.ForEach(s => _schemas[s.Id] = s);
        channels.ForEach(c => _channels[c.Id] = c);
        HasSummary = true;
    }

    private bool ReadRecordAt(long offset, out McapOpcode opcode, out byte[] content, out long end)
    {
        opcode = 0;
        content = [];
        end = offset;
        Span<byte> prefix = stackalloc byte[McapFormat.RecordPrefixLength];
        if (offset < 0 || _length - offset < McapFormat.RecordPrefixLength || ReadAt(offset, prefix) < prefix.Length)
        {
            return false;
        }
        opcode = (McapOpcode)prefix[0];
        var length = BinaryPrimitives.ReadUInt64LittleEndian(prefix[1..]);
        if (length > int.MaxValue || (long)length > _length - offset - McapFormat.RecordPrefixLength)
        {
            return false;
        }
        content = new byte[length];
        ReadAt(offset + McapFormat.RecordPrefixLength, content);
        end = offset + McapFormat.RecordPrefixLength + (long)length;
        return true;
    }

    private int ReadAt(long offset, Span<byte> buffer)
    {
        _stream.Seek(offset, SeekOrigin.Begin);
        return _stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
    }
}
