namespace ULlava.Training.Training;

/// <summary>What a pretraining stage does (stage 0, <see cref="VisionPretrainer"/>; stage 1, <see cref="SamPretrainer"/>).</summary>
public sealed record PretrainOptions
{
    /// <summary>Where the stage writes its file (required).</summary>
    public string OutputDir { get; init; } = "";
    public string ModelSize { get; init; } = "default";
    public int Steps { get; init; } = 2000;
    public int BatchSize { get; init; } = 16;
    public double LearningRate { get; init; } = 1e-3;
    public int WarmupSteps { get; init; } = 100;
    /// <summary>Fixes the initial weights and every step's samples.</summary>
    public ulong Seed { get; init; } = 1;
    public int SceneWidth { get; init; } = 640;
    public int SceneHeight { get; init; } = 480;
    public int LogEvery { get; init; } = 50;
    /// <summary>Stop after this many seconds and save what was learnt (0: no limit): a machine lent for minutes.</summary>
    public double MaxSeconds { get; init; }
    public string Device { get; init; } = "cpu";
    /// <summary>Intra-op threads; 0 keeps libtorch's default.</summary>
    public int Threads { get; init; }
    /// <summary>Threads rendering samples ahead of the model; 0: every core.</summary>
    public int DataWorkers { get; init; }

    /// <summary>Start from this stage output's weights instead of a fresh initialisation (a longer schedule on a finished stage); the stage's probe starts afresh.</summary>
    public string? InitFile { get; init; }

    /// <summary>The option lines both stages share, after their own header and --out line.</summary>
    public static string Usage(PretrainOptions defaults) => FormattableString.Invariant(
        $"""
          --size default|tiny                model size ({defaults.ModelSize})
          --steps N                          ({defaults.Steps}); --batch N ({defaults.BatchSize}); --lr X ({defaults.LearningRate}); --warmup N ({defaults.WarmupSteps})
          --seed N                           initial weights and samples ({defaults.Seed})
          --scene WxH                        scene size ({defaults.SceneWidth}x{defaults.SceneHeight}); --log-every N ({defaults.LogEvery})
          --max-seconds N                    stop early and save (0: no limit)
          --init FILE                        start from this stage's earlier output (its probe starts afresh)
          --device cpu|cuda|cuda:N           ({defaults.Device}); --threads N; --data-workers N (every core)
        """);

    public static PretrainOptions Parse(IReadOnlyList<string> args, PretrainOptions defaults)
    {
        var r = new OptionReader(args, new HashSet<string> { "out", "size", "steps", "batch", "lr", "warmup", "seed", "scene", "log-every", "max-seconds", "device", "threads", "data-workers", "init" });
        var scene = r.Size("scene");
        return defaults with
        {
            OutputDir = r.String("out") ?? throw new ArgumentException("--out DIR is required"),
            ModelSize = r.String("size") ?? defaults.ModelSize,
            Steps = r.Int("steps") ?? defaults.Steps,
            BatchSize = r.Int("batch") ?? defaults.BatchSize,
            LearningRate = r.Double("lr") ?? defaults.LearningRate,
            WarmupSteps = r.Int("warmup") ?? defaults.WarmupSteps,
            Seed = r.ULong("seed") ?? defaults.Seed,
            SceneWidth = scene?.Width ?? defaults.SceneWidth,
            SceneHeight = scene?.Height ?? defaults.SceneHeight,
            LogEvery = r.Int("log-every") ?? defaults.LogEvery,
            MaxSeconds = r.Double("max-seconds") ?? defaults.MaxSeconds,
            Device = r.String("device") ?? defaults.Device,
            Threads = r.Int("threads") ?? defaults.Threads,
            DataWorkers = r.Int("data-workers") ?? defaults.DataWorkers,
            InitFile = r.String("init") ?? defaults.InitFile,
        };
    }
}
