namespace ULlava.Perception.Recording.Mcap;

/// <summary>Times are nanoseconds; this node uses the Unix epoch for both.</summary>
public sealed record McapMessage(ushort ChannelId, uint Sequence, ulong LogTime, ulong PublishTime, ReadOnlyMemory<byte> Data);
