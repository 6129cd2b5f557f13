namespace ULlava.Perception.Recording.Mcap;

/// <summary>Where a chunk is and what time span it covers: the reader seeks by these.</summary>
public sealed record McapChunkIndex(
    ulong MessageStartTime,
    ulong MessageEndTime,
    ulong ChunkStartOffset,
    ulong ChunkLength,
    IReadOnlyDictionary<ushort, ulong> MessageIndexOffsets,
    ulong MessageIndexLength,
    string Compression,
    ulong CompressedSize,
    ulong UncompressedSize);
