namespace ULlava.Perception.Recording.Mcap;

public sealed record McapWriterOptions
{
    /// <summary>"" (none), "zstd" or "lz4".</summary>
    public string Compression { get; init; } = McapFormat.CompressionZstd;

    /// <summary>A chunk is closed (compressed, written and flushed) once its uncompressed records reach this size.</summary>
    public int ChunkSize { get; init; } = 1 << 20;

    public int ZstdLevel { get; init; } = 3;

    public string Profile { get; init; } = "";

    public string Library { get; init; } = "ullava-perception-recording";
}
