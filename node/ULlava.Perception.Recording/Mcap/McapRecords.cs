namespace ULlava.Perception.Recording.Mcap;

/// <summary>Field layouts of each record, in the order of the spec; shared by writer and reader so they cannot drift.</summary>
internal static class McapRecords
{
    public static void WriteHeader(ByteSink sink, McapHeader header)
    {
        var at = sink.BeginRecord(McapOpcode.Header);
        sink.String(header.Profile);
        sink.String(header.Library);
        sink.EndRecord(at);
    }

    public static McapHeader ParseHeader(ReadOnlySpan<byte> content)
    {
        var r = new SpanReader(content);
        return new McapHeader(r.String("header.profile"), r.String("header.library"));
    }

    public static McapFooter ParseFooter(ReadOnlySpan<byte> content)
    {
        var r = new SpanReader(content);
        return new McapFooter(r.U64("footer.summary_start"), r.U64("footer.summary_offset_start"), r.U32("footer.summary_crc"));
    }

    public static void WriteSchema(ByteSink sink, McapSchema schema)
    {
        var at = sink.BeginRecord(McapOpcode.Schema);
        sink.U16(schema.Id);
        sink.String(schema.Name);
        sink.String(schema.Encoding);
        sink.Bytes32(schema.Data);
        sink.EndRecord(at);
    }

    public static McapSchema ParseSchema(ReadOnlySpan<byte> content)
    {
        var r = new SpanReader(content);
        return new McapSchema(r.U16("schema.id"), r.String("schema.name"), r.String("schema.encoding"), r.Bytes32("schema.data").ToArray());
    }

    public static void WriteChannel(ByteSink sink, McapChannel channel)
    {
        var at = sink.BeginRecord(McapOpcode.Channel);
        sink.U16(channel.Id);
        sink.U16(channel.SchemaId);
        sink.String(channel.Topic);
        sink.String(channel.MessageEncoding);
        sink.StringMap(channel.Metadata);
        sink.EndRecord(at);
    }

    public static McapChannel ParseChannel(ReadOnlySpan<byte> content)
    {
        var r = new SpanReader(content);
        return new McapChannel(r.U16("channel.id"), r.U16("channel.schema_id"), r.String("channel.topic"),
            r.String("channel.message_encoding"), r.StringMap("channel.metadata"));
    }

    public static void WriteMessage(ByteSink sink, ushort channelId, uint sequence, ulong logTime, ulong publishTime, ReadOnlySpan<byte> data)
    {
        var at = sink.BeginRecord(McapOpcode.Message);
        sink.U16(channelId);
        sink.U32(sequence);
        sink.U64(logTime);
        sink.U64(publishTime);
        sink.Raw(data);
        sink.EndRecord(at);
    }

    /// <summary>The message's data is a slice of <paramref name="owner"/>, so reading a chunk copies nothing per message.</summary>
    public static McapMessage ParseMessage(ReadOnlyMemory<byte> owner)
    {
        var r = new SpanReader(owner.Span);
        var channelId = r.U16("message.channel_id");
        var sequence = r.U32("message.sequence");
        var logTime = r.U64("message.log_time");
        var publishTime = r.U64("message.publish_time");
        return new McapMessage(channelId, sequence, logTime, publishTime, owner[r.Position..]);
    }

    public static void WriteChunk(ByteSink sink, ulong startTime, ulong endTime, ulong uncompressedSize, uint uncompressedCrc,
        string compression, ReadOnlySpan<byte> records)
    {
        var at = sink.BeginRecord(McapOpcode.Chunk);
        sink.U64(startTime);
        sink.U64(endTime);
        sink.U64(uncompressedSize);
        sink.U32(uncompressedCrc);
        sink.String(compression);
        sink.Bytes64(records);
        sink.EndRecord(at);
    }

    public static void WriteMessageIndex(ByteSink sink, McapMessageIndex index)
    {
        var at = sink.BeginRecord(McapOpcode.MessageIndex);
        sink.U16(index.ChannelId);
        sink.U32((uint)(index.Entries.Count * 16));
        foreach (var (logTime, offset) in index.Entries)
        {
            sink.U64(logTime);
            sink.U64(offset);
        }
        sink.EndRecord(at);
    }

    public static McapMessageIndex ParseMessageIndex(ReadOnlySpan<byte> content)
    {
        var r = new SpanReader(content);
        var channelId = r.U16("message_index.channel_id");
        var inner = new SpanReader(r.Bytes32("message_index.records"));
        var entries = new List<(ulong, ulong)>();
        while (inner.Remaining > 0)
        {
            entries.Add((inner.U64("message_index.log_time"), inner.U64("message_index.offset")));
        }
        return new McapMessageIndex(channelId, entries);
    }

    public static void WriteChunkIndex(ByteSink sink, McapChunkIndex index)
    {
        var at = sink.BeginRecord(McapOpcode.ChunkIndex);
        sink.U64(index.MessageStartTime);
        sink.U64(index.MessageEndTime);
        sink.U64(index.ChunkStartOffset);
        sink.U64(index.ChunkLength);
        sink.U16U64Map(index.MessageIndexOffsets);
        sink.U64(index.MessageIndexLength);
        sink.String(index.Compression);
        sink.U64(index.CompressedSize);
        sink.U64(index.UncompressedSize);
        sink.EndRecord(at);
    }

    public static McapChunkIndex ParseChunkIndex(ReadOnlySpan<byte> content)
    {
        var r = new SpanReader(content);
        return new McapChunkIndex(r.U64("chunk_index.message_start_time"), r.U64("chunk_index.message_end_time"),
            r.U64("chunk_index.chunk_start_offset"), r.U64("chunk_index.chunk_length"), r.U16U64Map("chunk_index.message_index_offsets"),
            r.U64("chunk_index.message_index_length"), r.String("chunk_index.compression"), r.U64("chunk_index.compressed_size"),
            r.U64("chunk_index.uncompressed_size"));
    }

    public static void WriteAttachment(ByteSink sink, McapAttachment attachment)
    {
        var at = sink.BeginRecord(McapOpcode.Attachment);
        sink.U64(attachment.LogTime);
        sink.U64(attachment.CreateTime);
        sink.String(attachment.Name);
        sink.String(attachment.MediaType);
        sink.Bytes64(attachment.Data);
        // The attachment CRC covers every field before it.
        sink.U32(System.IO.Hashing.Crc32.HashToUInt32(sink.WrittenSpan[at..]));
        sink.EndRecord(at);
    }

    public static McapAttachment ParseAttachment(ReadOnlySpan<byte> content, out bool crcOk)
    {
        var r = new SpanReader(content);
        var attachment = new McapAttachment(r.U64("attachment.log_time"), r.U64("attachment.create_time"), r.String("attachment.name"),
            r.String("attachment.media_type"), r.Bytes64("attachment.data").ToArray());
        var covered = r.Position;
        var crc = r.U32("attachment.crc");
        crcOk = crc == 0 || crc == System.IO.Hashing.Crc32.HashToUInt32(content[..covered]);
        return attachment;
    }

    public static void WriteAttachmentIndex(ByteSink sink, McapAttachmentIndex index)
    {
        var at = sink.BeginRecord(McapOpcode.AttachmentIndex);
        sink.U64(index.Offset);
        sink.U64(index.Length);
        sink.U64(index.LogTime);
        sink.U64(index.CreateTime);
        sink.U64(index.DataSize);
        sink.String(index.Name);
        sink.String(index.MediaType);
        sink.EndRecord(at);
    }

    public static McapAttachmentIndex ParseAttachmentIndex(ReadOnlySpan<byte> content)
    {
        var r = new SpanReader(content);
        return new McapAttachmentIndex(r.U64("attachment_index.offset"), r.U64("attachment_index.length"), r.U64("attachment_index.log_time"),
            r.U64("attachment_index.create_time"), r.U64("attachment_index.data_size"), r.String("attachment_index.name"),
            r.String("attachment_index.media_type"));
    }

    public static void WriteStatistics(ByteSink sink, McapStatistics s)
    {
        var at = sink.BeginRecord(McapOpcode.Statistics);
        sink.U64(s.MessageCount);
        sink.U16(s.SchemaCount);
        sink.U32(s.ChannelCount);
        sink.U32(s.AttachmentCount);
        sink.U32(s.MetadataCount);
        sink.U32(s.ChunkCount);
        sink.U64(s.MessageStartTime);
        sink.U64(s.MessageEndTime);
        sink.U16U64Map(s.ChannelMessageCounts);
        sink.EndRecord(at);
    }

    public static McapStatistics ParseStatistics(ReadOnlySpan<byte> content)
    {
        var r = new SpanReader(content);
        return new McapStatistics(r.U64("statistics.message_count"), r.U16("statistics.schema_count"), r.U32("statistics.channel_count"),
            r.U32("statistics.attachment_count"), r.U32("statistics.metadata_count"), r.U32("statistics.chunk_count"),
            r.U64("statistics.message_start_time"), r.U64("statistics.message_end_time"), r.U16U64Map("statistics.channel_message_counts"));
    }

    public static void WriteMetadata(ByteSink sink, McapMetadata metadata)
    {
        var at = sink.BeginRecord(McapOpcode.Metadata);
        sink.String(metadata.Name);
        sink.StringMap(metadata.Values);
        sink.EndRecord(at);
    }

    public static McapMetadata ParseMetadata(ReadOnlySpan<byte> content)
    {
        var r = new SpanReader(content);
        return new McapMetadata(r.String("metadata.name"), r.StringMap("metadata.metadata"));
    }

    public static void WriteMetadataIndex(ByteSink sink, McapMetadataIndex index)
    {
        var at = sink.BeginRecord(McapOpcode.MetadataIndex);
        sink.U64(index.Offset);
        sink.U64(index.Length);
        sink.String(index.Name);
        sink.EndRecord(at);
    }

    public static McapMetadataIndex ParseMetadataIndex(ReadOnlySpan<byte> content)
    {
        var r = new SpanReader(content);
        return new McapMetadataIndex(r.U64("metadata_index.offset"), r.U64("metadata_index.length"), r.String("metadata_index.name"));
    }

    public static void WriteSummaryOffset(ByteSink sink, McapSummaryOffset offset)
    {
        var at = sink.BeginRecord(McapOpcode.SummaryOffset);
        sink.U8((byte)offset.GroupOpcode);
        sink.U64(offset.GroupStart);
        sink.U64(offset.GroupLength);
        sink.EndRecord(at);
    }

    public static McapSummaryOffset ParseSummaryOffset(ReadOnlySpan<byte> content)
    {
        var r = new SpanReader(content);
        return new McapSummaryOffset((McapOpcode)r.U8("summary_offset.group_opcode"), r.U64("summary_offset.group_start"),
            r.U64("summary_offset.group_length"));
    }

    public static void WriteDataEnd(ByteSink sink, uint dataSectionCrc)
    {
        var at = sink.BeginRecord(McapOpcode.DataEnd);
        sink.U32(dataSectionCrc);
        sink.EndRecord(at);
    }

    public static uint ParseDataEnd(ReadOnlySpan<byte> content) => new SpanReader(content).U32("data_end.data_section_crc");
}
