using ULlava.Perception.Node.Instructions;
using ULlava.Perception.Transport;

namespace ULlava.Perception.Node.Hosting;

/// <summary>Everything the node needs to run, validated before anything starts.</summary>
public sealed record NodeOptions
{
    public required IReadOnlyList<SourceSpec> Sources { get; init; }
    public required IReadOnlyList<StandingInstruction> Instructions { get; init; }
    public string PublishEndpoint { get; init; } = "tcp://127.0.0.1:5556";

    /// <summary>The command channel (ROUTER); null: no commands.</summary>
    public string? CommandEndpoint { get; init; } = "tcp://127.0.0.1:5557";

    /// <summary>CURVE on the command socket (and, with <see cref="EncryptResults"/>, the publisher); null: plain.</summary>
    public CommandSecurity? Security { get; init; }

    public bool EncryptResults { get; init; }

    /// <summary>Record from the start (commands can start and stop recordings too).</summary>
    public RecordingSettings? Record { get; init; }

    /// <summary>The node's configuration as text, written into recordings.</summary>
    public IReadOnlyDictionary<string, string> Description { get; init; } = new Dictionary<string, string>();
    /// <summary>Play files again from the start when they end.</summary>
    public bool Loop { get; init; }
    public double MaxFps { get; init; }
    public int EveryNFrames { get; init; } = 1;
    /// <summary>Stop after this many processed frames in all (0: no limit).</summary>
    public long MaxFrames { get; init; }
    public double StatusIntervalSeconds { get; init; } = 1.0;
    public string NodeId { get; init; } = Environment.MachineName;
    /// <summary>Encoded frames kept per stream for asks on recent frames and video windows.</summary>
    public int HistoryFrames { get; init; } = 16;

    /// <summary>How long a stop waits for a frame still in the model before leaving it behind.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Print a line per processed frame.</summary>
    public bool PrintFrames { get; init; } = true;

    public void Validate()
    {
        if (Sources.Count == 0) throw new ArgumentException("no source: give --source FILE|/dev/videoN|rtsp://...");
        var duplicate = Sources.GroupBy(s => s.StreamId).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"stream id '{duplicate.Key}' is used by more than one source");
        if (!(StatusIntervalSeconds > 0)) throw new ArgumentOutOfRangeException(nameof(StatusIntervalSeconds), "status interval must be positive");
        if (HistoryFrames is < 1 or > 256) throw new ArgumentOutOfRangeException(nameof(HistoryFrames), $"history of {HistoryFrames} frames: expected 1 to 256");
        Record?.Validate();
        if (StopGrace < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(StopGrace), "stop grace must not be negative");
        if (MaxFrames < 0) throw new ArgumentOutOfRangeException(nameof(MaxFrames), "max frames must be 0 (no limit) or more");
    }
}
