using System.Text;
using ULlava.Perception.Recording.Mcap;

namespace ULlava.Perception.Recording.Tests;

/// <summary>
/// A test file with known content: messages on three channels with varied sizes, written in small chunks, and
/// for every message the chunk it ended up in (so truncation tests know exactly what must survive).
/// </summary>
public sealed class SampleFile
{
    public required byte[] Bytes { get; init; }
    public required List<McapMessage> Messages { get; init; }
    public required List<int> ChunkOfMessage { get; init; }
    public required List<McapChunkIndex> Chunks { get; init; }
    public required string[] Topics { get; init; }

    public static byte[] Payload(int i) => Encoding.UTF8.GetBytes($"payload {i} " + new string((char)('a' + i % 26), i % 97));

    public static SampleFile Write(string compression, int count = 1500, int chunkSize = 4096, bool shuffledTimes = false)
    {
        using var memory = new MemoryStream();
        var topics = new[] { "/camera", "/results", "/status" };
        var messages = new List<McapMessage>();
        var chunkOf = new List<int>();
        var writer = new McapWriter(memory, new McapWriterOptions { Compression = compression, ChunkSize = chunkSize }, ownsStream: false);
        var schema = writer.AddSchema("test.Raw", "", []);
        var channels = topics.Select(t => writer.AddChannel(schema, t, "raw", new Dictionary<string, string> { ["topic"] = t })).ToArray();
        writer.WriteMetadata("config", new Dictionary<string, string> { ["a"] = "1", ["b"] = "two" });
        writer.WriteAttachment("notes.txt", "text/plain", 7, 8, "hello"u8);
        var random = new Random(7);
        var pendingFrom = 0;
        for (var i = 0; i < count; i++)
        {
            // Shuffled: times jump back and forth inside and across chunks.
            var time = shuffledTimes ? (ulong)(1_000_000 + random.Next(0, count) * 1000) : (ulong)(1_000_000 + i * 1000);
            var message = new McapMessage(channels[i % 3], (uint)i, time, time + 1, Payload(i));
            var before = writer.ChunkIndexes.Count;
            writer.WriteMessage(message.ChannelId, message.Sequence, message.LogTime, message.PublishTime, message.Data.Span);
            messages.Add(message);
            chunkOf.Add(-1);
            if (writer.ChunkIndexes.Count > before)
            {
                for (var j = pendingFrom; j <= i; j++)
                {
                    chunkOf[j] = before;
                }
                pendingFrom = i + 1;
            }
        }
        var open = writer.ChunkIndexes.Count;
        writer.Finish();
        for (var j = pendingFrom; j < count; j++)
        {
            chunkOf[j] = open;
        }
        return new SampleFile
        {
            Bytes = memory.ToArray(), Messages = messages, ChunkOfMessage = chunkOf, Chunks = writer.ChunkIndexes.ToList(), Topics = topics,
        };
    }

    public static McapReader Read(byte[] bytes) => new(new MemoryStream(bytes, writable: false));
}
