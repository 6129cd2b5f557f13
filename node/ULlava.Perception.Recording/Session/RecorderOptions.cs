using ULlava.Perception.Recording.Mcap;

namespace ULlava.Perception.Recording.Session;

public sealed record RecorderOptions
{
    /// <summary>Base path: "dir/session.mcap" records to dir/session_000.mcap, dir/session_001.mcap... (never overwrites).</summary>
    public required string Path { get; init; }

    public string Compression { get; init; } = McapFormat.CompressionZstd;

    public int ChunkSize { get; init; } = 1 << 20;

    /// <summary>Start a new file once this many bytes are written (0: no limit).</summary>
    public long MaxFileBytes { get; init; }

    /// <summary>Start a new file once its messages span this long in log time (zero: no limit).</summary>
    public TimeSpan MaxFileDuration { get; init; }

    /// <summary>An open chunk older than this (wall clock) is closed and flushed, bounding what a kill can lose.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Items waiting for the writer thread; past either limit new items are dropped and counted, never blocking the caller.</summary>
    public int MaxQueuedItems { get; init; } = 4096;

    public long MaxQueuedBytes { get; init; } = 256L << 20;

    /// <summary>Written as the "ullava.node_config" metadata record at the start of every file.</summary>
    public IReadOnlyDictionary<string, string> NodeConfiguration { get; init; } = new Dictionary<string, string>();

    /// <summary>Written as the "ullava.model" metadata record at the start of every file.</summary>
    public ModelIdentity? Model { get; init; }
}
