namespace ULlava.Perception.Recording.Mcap;

/// <summary>One channel's messages in the chunk before it: log time and offset into the uncompressed records.</summary>
public sealed record McapMessageIndex(ushort ChannelId, IReadOnlyList<(ulong LogTime, ulong Offset)> Entries);
