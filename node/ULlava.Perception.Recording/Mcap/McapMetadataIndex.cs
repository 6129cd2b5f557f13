namespace ULlava.Perception.Recording.Mcap;

public sealed record McapMetadataIndex(ulong Offset, ulong Length, string Name);
