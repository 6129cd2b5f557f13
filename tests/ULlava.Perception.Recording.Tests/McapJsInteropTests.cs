using System.Text;
using System.Text.Json;
using ULlava.Perception.Messages;
using ULlava.Perception.Recording.Mcap;
using ULlava.Perception.Recording.Session;

namespace ULlava.Perception.Recording.Tests;

/// <summary>Another implementation (the reference TypeScript one, @mcap/core + @mcap/support) reads ours and writes for us.</summary>
public sealed class McapJsInteropTests
{
    public static TheoryData<string> Compressions => new() { "zstd", "lz4", "" };

    [Theory]
    [MemberData(nameof(Compressions))]
    public void The_reference_reader_decodes_every_record_of_a_recorded_session(string compression)
    {
        using var dir = new TempDir();
        SessionExpectation expected;
        using (var recorder = new SessionRecorder(SessionSample.Options(dir.File("s.mcap"), compression)))
        {
            expected = SessionSample.Record(recorder, 40);
        }

        var report = NodeScript.Run("read", dir.File("s_000.mcap"));

        Assert.Equal(expected.McapMessages, report.GetProperty("streamMessages").GetInt32());
        Assert.Equal(expected.McapMessages, report.GetProperty("indexedMessages").GetInt32());
        Assert.Equal(expected.McapMessages, report.GetProperty("statisticsMessageCount").GetInt32());
        // Every message decoded by protobufjs from the FileDescriptorSet in its schema.
        Assert.Equal(expected.McapMessages, report.GetProperty("decoded").GetInt32());
        var chunks = report.GetProperty("chunkIndexes").GetInt32();
        Assert.True(chunks > 3, $"{chunks} chunks");
        Assert.Equal(chunks, report.GetProperty("chunkCompressions").GetProperty(compression).GetInt32());
        Assert.Equal(chunks, report.GetProperty("recordCounts").GetProperty("Chunk").GetInt32());
        Assert.Equal(1, report.GetProperty("recordCounts").GetProperty("DataEnd").GetInt32());
        Assert.Equal(1, report.GetProperty("recordCounts").GetProperty("Footer").GetInt32());

        var perTopic = report.GetProperty("perTopic");
        Assert.Equal(expected.Frames, perTopic.GetProperty(RecordingTopics.Image("cam0")).GetInt32());
        Assert.Equal(expected.Results, perTopic.GetProperty(RecordingTopics.Annotations("cam0")).GetInt32());
        Assert.Equal(expected.Commands, perTopic.GetProperty(RecordingTopics.Commands).GetInt32());

        var decoded = report.GetProperty("firstDecoded");
        Assert.Equal("the cup 0", decoded.GetProperty(Topics.Results("cam0")).GetProperty("text").GetString());
        Assert.Equal("cup", decoded.GetProperty(Topics.Results("cam0")).GetProperty("masks")[0].GetProperty("phrase").GetString());
        Assert.Equal("jpeg", decoded.GetProperty(RecordingTopics.Image("cam0")).GetProperty("format").GetString());
        Assert.Equal(Convert.ToBase64String(SessionSample.Jpeg(0)), decoded.GetProperty(RecordingTopics.Image("cam0")).GetProperty("data").GetString());
        Assert.Equal("LINE_LOOP", decoded.GetProperty(RecordingTopics.Annotations("cam0")).GetProperty("points")[0].GetProperty("type").GetString());
        Assert.Equal("r0", decoded.GetProperty(RecordingTopics.Commands).GetProperty("request_id").GetString());
        Assert.Equal("plumb_bob", decoded.GetProperty(RecordingTopics.CameraInfo("cam0")).GetProperty("distortion_model").GetString());

        var metadata = report.GetProperty("metadataNames").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal([SessionRecorder.NodeConfigMetadataName, ModelIdentity.MetadataName], metadata);
    }

    [Fact]
    public void The_reference_reader_reads_attachments_and_raw_channels()
    {
        using var dir = new TempDir();
        var file = SampleFile.Write("lz4");
        File.WriteAllBytes(dir.File("raw.mcap"), file.Bytes);

        var report = NodeScript.Run("read", dir.File("raw.mcap"));

        Assert.Equal(file.Messages.Count, report.GetProperty("indexedMessages").GetInt32());
        Assert.Equal(file.Messages.Count, report.GetProperty("streamMessages").GetInt32());
        Assert.Equal(file.Chunks.Count, report.GetProperty("chunkCompressions").GetProperty("lz4").GetInt32());
        Assert.Equal(["notes.txt"], report.GetProperty("attachments").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["config"], report.GetProperty("metadataNames").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(file.Messages.Count(m => m.ChannelId == 1), report.GetProperty("perTopic").GetProperty("/results").GetInt32());
    }

    [Fact]
    public void Our_reader_reads_a_file_written_by_the_reference_writer()
    {
        using var dir = new TempDir();
        var path = dir.File("js.mcap");
        var written = NodeScript.Run("write", path);
        var count = written.GetProperty("count").GetInt32();

        using var reader = McapReader.Open(path);
        var messages = reader.ReadMessages().ToList();

        Assert.True(reader.HasSummary);
        Assert.Equal(count, messages.Count);
        for (var i = 0; i < count; i++)
        {
            Assert.Equal((ulong)(1000 + i * 10), messages[i].LogTime);
            Assert.Equal((uint)i, messages[i].Sequence);
            Assert.Equal(string.Concat(Enumerable.Repeat($"message {i} ", 1 + i % 7)), Encoding.UTF8.GetString(messages[i].Data.Span));
            Assert.Equal(i % 2 == 0 ? "/a" : "/b", reader.Channels[messages[i].ChannelId].Topic);
        }
        Assert.Equal("v", reader.Channels.Values.Single(c => c.Topic == "/a").Metadata["k"]);
        Assert.All(reader.ChunkIndexes, c => Assert.Equal("zstd", c.Compression));
        Assert.Equal("@mcap/core", Assert.Single(reader.ReadMetadata()).Values["written_by"]);
        Assert.Equal("hello"u8.ToArray(), Assert.Single(reader.ReadAttachments()).Data);
        Assert.True(reader.VerifyDataSectionCrc());
        Assert.Empty(reader.Problems);

        // And without its summary: the reference writer puts schemas and channels inside chunks.
        using var scan = McapReader.Open(path);
        Assert.Equal(count, scan.ScanMessages().Count());
        Assert.Equal(2, scan.Channels.Count);
        Assert.True(scan.ScanReachedDataEnd);
    }
}
