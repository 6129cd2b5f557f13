using ULlava.Perception.Recording.Mcap;

namespace ULlava.Perception.Recording.Tests;

/// <summary>A killed writer leaves a prefix of the file: everything up to the last complete chunk must read back.</summary>
public sealed class CrashSafetyTests
{
    private static List<McapMessage> Surviving(SampleFile file, long cut) =>
        file.Messages.Where((_, i) => (long)(file.Chunks[file.ChunkOfMessage[i]].ChunkStartOffset + file.Chunks[file.ChunkOfMessage[i]].ChunkLength) <= cut).ToList();

    public static TheoryData<string> Compressions => new() { "", "zstd", "lz4" };

    [Theory]
    [MemberData(nameof(Compressions))]
    public void A_file_cut_anywhere_reads_up_to_its_last_complete_chunk(string compression)
    {
        var file = SampleFile.Write(compression, count: 600, chunkSize: 2048);
        var cuts = new List<long> { 8 + 9 + 30, file.Bytes.Length - 1, file.Bytes.Length - McapFormat.TailLength };
        foreach (var chunk in file.Chunks.Take(6))
        {
            var end = (long)(chunk.ChunkStartOffset + chunk.ChunkLength);
            cuts.AddRange([end, end + 1, end + 20, (long)chunk.ChunkStartOffset + 5, (long)chunk.ChunkStartOffset + (long)chunk.ChunkLength / 2]);
        }
        long summaryStart;
        using (var full = SampleFile.Read(file.Bytes))
        {
            summaryStart = (long)full.Footer!.SummaryStart;
        }
        var last = file.Chunks[^1];
        cuts.Add((long)(last.ChunkStartOffset + last.ChunkLength + last.MessageIndexLength));

        foreach (var cut in cuts.Distinct())
        {
            using var reader = SampleFile.Read(file.Bytes.AsSpan(0, (int)cut).ToArray());
            var messages = reader.ReadMessages().ToList();
            var expected = Surviving(file, cut);

            Assert.False(reader.HasSummary, $"cut at {cut}");
            Assert.True(reader.HasProblem(McapProblemKind.NoSummary), $"cut at {cut}");
            Assert.Equal(expected.Count, messages.Count);
            Assert.True(expected.Select(m => m.Sequence).SequenceEqual(messages.Select(m => m.Sequence)), $"cut at {cut}");
            if (cut >= summaryStart)
            {
                // Cut in the summary: the data section is whole and nothing is reported lost.
                Assert.True(reader.ScanReachedDataEnd);
                Assert.False(reader.HasProblem(McapProblemKind.Truncated));
                continue;
            }
            // What was skipped is reported, to the byte: from the first incomplete record to the cut.
            var truncated = Assert.Single(reader.Problems, p => p.Kind == McapProblemKind.Truncated);
            Assert.Equal(cut - reader.ScanValidLength, truncated.SkippedBytes);
            Assert.True(reader.ScanValidLength <= cut);
        }
    }

    [Fact]
    public void A_cut_inside_a_record_reports_where_and_how_much()
    {
        var file = SampleFile.Write("zstd", count: 600, chunkSize: 2048);
        var chunk = file.Chunks[2];
        var cut = (long)chunk.ChunkStartOffset + 100;
        using var reader = SampleFile.Read(file.Bytes.AsSpan(0, (int)cut).ToArray());

        Assert.Equal(Surviving(file, cut).Count, reader.ReadMessages().Count());
        var truncated = Assert.Single(reader.Problems, p => p.Kind == McapProblemKind.Truncated);
        Assert.Equal((long)chunk.ChunkStartOffset, truncated.Offset);
        Assert.Equal(100, truncated.SkippedBytes);
        Assert.Equal((long)chunk.ChunkStartOffset, reader.ScanValidLength);
        // Metadata and attachments written before the chunks survive too.
        Assert.Equal("config", Assert.Single(reader.ReadMetadata()).Name);
        Assert.Equal("notes.txt", Assert.Single(reader.ReadAttachments()).Name);
    }

    [Fact]
    public void A_writer_that_never_closes_leaves_every_flushed_chunk_readable()
    {
        using var dir = new TempDir();
        var path = dir.File("open.mcap");
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite);
        var writer = new McapWriter(stream, new McapWriterOptions { Compression = "zstd", ChunkSize = 1 << 20 });
        var channel = writer.AddChannel(0, "/x", "raw");
        for (var i = 0; i < 100; i++)
        {
            writer.WriteMessage(channel, (uint)i, (ulong)i, (ulong)i, SampleFile.Payload(i));
        }
        writer.Flush();
        for (var i = 100; i < 150; i++)
        {
            writer.WriteMessage(channel, (uint)i, (ulong)i, (ulong)i, SampleFile.Payload(i));
        }

        // The process "dies" here: what the OS has is what a reader gets.
        using var reader = McapReader.Open(path);
        var messages = reader.ReadMessages().ToList();

        Assert.Equal(Enumerable.Range(0, 100).Select(i => (uint)i), messages.Select(m => m.Sequence));
        Assert.Equal(SampleFile.Payload(42), messages[42].Data.ToArray());
        Assert.True(reader.HasProblem(McapProblemKind.NoSummary));
        Assert.False(reader.ScanReachedDataEnd);
        Assert.Equal(1, reader.ScannedChunks);
    }
}
