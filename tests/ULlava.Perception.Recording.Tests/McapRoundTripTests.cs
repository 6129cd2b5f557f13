using System.Buffers.Binary;
using ULlava.Perception.Recording.Mcap;

namespace ULlava.Perception.Recording.Tests;

public sealed class McapRoundTripTests
{
    public static TheoryData<string> Compressions => new() { "", "zstd", "lz4" };

    private static void AssertSameMessages(IEnumerable<McapMessage> expected, IEnumerable<McapMessage> actual)
    {
        var e = expected.ToList();
        var a = actual.ToList();
        Assert.Equal(e.Count, a.Count);
        for (var i = 0; i < e.Count; i++)
        {
            Assert.Equal((e[i].ChannelId, e[i].Sequence, e[i].LogTime, e[i].PublishTime), (a[i].ChannelId, a[i].Sequence, a[i].LogTime, a[i].PublishTime));
            Assert.True(e[i].Data.Span.SequenceEqual(a[i].Data.Span), $"payload of message {i} differs");
        }
    }

    [Theory]
    [MemberData(nameof(Compressions))]
    public void Everything_written_reads_back_through_the_summary(string compression)
    {
        var file = SampleFile.Write(compression);
        using var reader = SampleFile.Read(file.Bytes);

        Assert.Empty(reader.Problems);
        Assert.True(reader.HasSummary);
        Assert.Equal("ullava-perception-recording", reader.Header!.Library);
        Assert.True(file.Chunks.Count > 10, $"only {file.Chunks.Count} chunks: the threshold did not split");
        Assert.All(reader.ChunkIndexes, c => Assert.Equal(compression, c.Compression));
        if (compression != "")
        {
            Assert.True(reader.ChunkIndexes.Sum(c => (long)c.CompressedSize) < reader.ChunkIndexes.Sum(c => (long)c.UncompressedSize));
        }
        AssertSameMessages(file.Messages, reader.ReadMessages());
        Assert.Equal(file.Topics, reader.Channels.Values.OrderBy(c => c.Id).Select(c => c.Topic));
        Assert.Equal("/results", reader.Channels[1].Metadata["topic"]);

        var stats = reader.Statistics!;
        Assert.Equal((ulong)file.Messages.Count, stats.MessageCount);
        Assert.Equal((uint)file.Chunks.Count, stats.ChunkCount);
        Assert.Equal(file.Messages.Min(m => m.LogTime), stats.MessageStartTime);
        Assert.Equal(file.Messages.Max(m => m.LogTime), stats.MessageEndTime);
        Assert.Equal((ulong)file.Messages.Count(m => m.ChannelId == 2), stats.ChannelMessageCounts[2]);

        var metadata = Assert.Single(reader.ReadMetadata());
        Assert.Equal("config", metadata.Name);
        Assert.Equal("two", metadata.Values["b"]);
        var attachment = Assert.Single(reader.ReadAttachments());
        Assert.Equal("hello"u8.ToArray(), attachment.Data);
        Assert.True(reader.VerifyDataSectionCrc());
        Assert.Empty(reader.Problems);
    }

    [Theory]
    [MemberData(nameof(Compressions))]
    public void A_stream_scan_reads_the_same_messages_without_the_summary(string compression)
    {
        var file = SampleFile.Write(compression);
        using var reader = SampleFile.Read(file.Bytes);

        AssertSameMessages(file.Messages, reader.ScanMessages());
        Assert.True(reader.ScanReachedDataEnd);
        Assert.Equal(file.Chunks.Count, reader.ScannedChunks);
        Assert.Empty(reader.Problems);
    }

    [Fact]
    public void Messages_come_out_in_log_time_order_when_written_out_of_order()
    {
        var file = SampleFile.Write("zstd", shuffledTimes: true);
        using var reader = SampleFile.Read(file.Bytes);

        // Stable: equal times keep file order.
        AssertSameMessages(file.Messages.OrderBy(m => m.LogTime), reader.ReadMessages());
    }

    [Fact]
    public void A_time_range_reads_only_the_chunks_that_overlap_it()
    {
        var file = SampleFile.Write("zstd", count: 3000);
        var counting = new CountingStream(file.Bytes);
        using var reader = new McapReader(counting);
        var opened = counting.BytesRead;

        ulong start = 1_000_000 + 1200 * 1000, end = 1_000_000 + 1300 * 1000;
        var range = reader.ReadMessages(start, end).ToList();

        AssertSameMessages(file.Messages.Where(m => m.LogTime >= start && m.LogTime <= end), range);
        Assert.Equal(101, range.Count);
        // Seeking by chunk index: a few chunks, not the file.
        Assert.True(counting.BytesRead - opened < file.Bytes.Length / 10, $"read {counting.BytesRead - opened} of {file.Bytes.Length} bytes");
    }

    [Fact]
    public void Channels_can_be_selected()
    {
        var file = SampleFile.Write("lz4");
        using var reader = SampleFile.Read(file.Bytes);

        AssertSameMessages(file.Messages.Where(m => m.ChannelId == 1), reader.ReadMessages(channelIds: new HashSet<ushort> { 1 }));
    }

    [Theory]
    [MemberData(nameof(Compressions))]
    public void A_byte_flipped_inside_a_chunk_is_reported_and_that_chunk_is_not_returned(string compression)
    {
        var file = SampleFile.Write(compression);
        var corrupt = (byte[])file.Bytes.Clone();
        var chunk = file.Chunks[3];
        // Inside the chunk's records, past its fixed fields and compression name.
        var recordsStart = (long)chunk.ChunkStartOffset + 9 + 8 + 8 + 8 + 4 + 4 + compression.Length + 8;
        corrupt[recordsStart + (long)chunk.CompressedSize / 2] ^= 0x5A;

        using var reader = SampleFile.Read(corrupt);
        var messages = reader.ReadMessages().ToList();

        var problem = Assert.Single(reader.Problems);
        Assert.Equal((long)chunk.ChunkStartOffset, problem.Offset);
        // Uncompressed or a codec that still decodes: the CRC catches it; otherwise the codec does. Never silent.
        Assert.Contains(problem.Kind, new[] { McapProblemKind.ChunkCrcMismatch, McapProblemKind.Malformed });
        if (compression == "")
        {
            Assert.Equal(McapProblemKind.ChunkCrcMismatch, problem.Kind);
        }
        AssertSameMessages(file.Messages.Where((_, i) => file.ChunkOfMessage[i] != 3), messages);
        Assert.False(reader.VerifyDataSectionCrc());
        Assert.True(reader.HasProblem(McapProblemKind.DataSectionCrcMismatch));
    }

    [Fact]
    public void A_damaged_summary_is_reported_and_the_data_is_scanned_instead()
    {
        var file = SampleFile.Write("zstd");
        var corrupt = (byte[])file.Bytes.Clone();
        var summaryStart = (long)BinaryPrimitives.ReadUInt64LittleEndian(corrupt.AsSpan(corrupt.Length - McapFormat.TailLength + 9));
        corrupt[summaryStart + 20] ^= 0xFF;

        using var reader = SampleFile.Read(corrupt);

        Assert.False(reader.HasSummary);
        Assert.True(reader.HasProblem(McapProblemKind.SummaryCrcMismatch));
        AssertSameMessages(file.Messages, reader.ReadMessages());
    }

    [Fact]
    public void An_empty_file_is_valid()
    {
        using var memory = new MemoryStream();
        new McapWriter(memory, ownsStream: false).Finish();
        using var reader = SampleFile.Read(memory.ToArray());

        Assert.True(reader.HasSummary);
        Assert.Empty(reader.ReadMessages());
        Assert.Equal(0UL, reader.Statistics!.MessageCount);
        Assert.Empty(reader.Problems);
    }

    [Fact]
    public void Not_an_mcap_file_is_refused()
    {
        Assert.Throws<McapFormatException>(() => SampleFile.Read("PK\u0003\u0004 not mcap"u8.ToArray()));
    }

    [Fact]
    public void Unknown_ids_and_compressions_are_refused_by_the_writer()
    {
        using var memory = new MemoryStream();
        Assert.Throws<ArgumentException>(() => new McapWriter(memory, new McapWriterOptions { Compression = "bz2" }, ownsStream: false));
        var writer = new McapWriter(memory, ownsStream: false);
        Assert.Throws<ArgumentException>(() => writer.AddChannel(3, "/x", "raw"));
        Assert.Throws<ArgumentException>(() => writer.WriteMessage(0, 0, 0, 0, []));
    }
}
