namespace ULlava.Training.Training;

/// <summary>What <see cref="Trainer.Run"/> does; every field has a default but <see cref="OutputDir"/>.</summary>
public sealed record TrainOptions
{
    /// <summary>Checkpoints go to <c>OutputDir/checkpoint-STEP</c>, the last one also to <c>OutputDir/final</c>.</summary>
    public required string OutputDir { get; init; }

    /// <summary>"default" (the shipped size) or "tiny" (tests); ignored when <see cref="ConfigPath"/> is set.</summary>
    public string ModelSize { get; init; } = "default";

    /// <summary>A u-LLaVA config.json to build the model from instead (loss weights are read from it too).</summary>
    public string? ConfigPath { get; init; }

    public int Steps { get; init; } = 20_000;
    public int BatchSize { get; init; } = 8;

    /// <summary>
    /// Questions about each scene of a batch, packed in its row after one shared image prefix (<see cref="PackedRow"/>); 1:
    /// a row is one sample, as <see cref="Samples.SampleFactory.Create(ulong)"/> draws it.
    /// </summary>
    public int QuestionsPerScene { get; init; } = 1;

    /// <summary>With packed questions, also ask a clip about each object that stays ("Still."), not only its moving one.</summary>
    public bool AskStill { get; init; }

    /// <summary>
    /// Start from this model folder's weights (a new optimizer, schedule and set of aids: a further stage on a finished
    /// run); --vision and --sam still freeze what they load. Null: a fresh initialisation.
    /// </summary>
    public string? InitFrom { get; init; }
    public double LearningRate { get; init; } = 3e-4;
    public int WarmupSteps { get; init; } = 500;
    public double MinLearningRateRatio { get; init; } = 0.1;
    public double WeightDecay { get; init; } = 0.01;
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>Fixes the initial weights and the training samples of every step.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Scene size of the generated training images: the node's 640×480 by default, so training sees what evaluation does after the processors' resizing.</summary>
    public int SceneWidth { get; init; } = 640;
    public int SceneHeight { get; init; } = 480;

    /// <summary>Train on these sample seeds in turn instead of the training split (overfitting checks).</summary>
    public IReadOnlyList<ulong>? FixedSeeds { get; init; }

    /// <summary>Write a resumable checkpoint every N steps (0: only at the end).</summary>
    public int CheckpointEvery { get; init; } = 1000;

    public int LogEvery { get; init; } = 10;

    /// <summary>A resumable checkpoint folder to continue from (weights, optimizer state, step, seed).</summary>
    public string? ResumeFrom { get; init; }

    /// <summary>A pretrained vision tower (train-vision's vision_encoder.safetensors, or a model folder's tower), loaded and frozen; a resume keeps it frozen.</summary>
    public string? VisionFile { get; init; }

    /// <summary>A pretrained SAM (train-sam's sam.safetensors), loaded and frozen; a resume keeps it frozen.</summary>
    public string? SamFile { get; init; }

    /// <summary>Weight of the training-only referent probe on the [SEG] hidden state (<see cref="ReferentHead"/>); 0: off.</summary>
    public double ReferentWeight { get; init; }

    /// <summary>Weight of the training-only locator probe on the [LOC] hidden state (<see cref="ReferentHead"/>); 0: off.</summary>
    public double LocatorWeight { get; init; }

    /// <summary>
    /// Weight of SAM's IoU head loss (MSE against the IoU its mask really has; the head reads a detached token, so
    /// nothing else moves); 0: the head is not trained.
    /// </summary>
    public double IouHeadWeight { get; init; }

    /// <summary>Weight of the training-only attention guidance at the [LOC]-predicting position (<see cref="Training.AttentionGuide"/>); 0: off.</summary>
    public double AttentionGuide { get; init; }

    /// <summary>Weight of the training-only box probe on what the guided heads read at that position (<see cref="HeadBoxProbe"/>); 0: off.</summary>
    public double HeadBoxWeight { get; init; }

    /// <summary>Weight of the training-only answer probe on what the guided heads read at an attribute or count answer (<see cref="HeadAnswerProbe"/>); 0: off.</summary>
    public double HeadAnswerWeight { get; init; }

    /// <summary>Weight of the training-only video aid: two heads look at the first and last frame tokens, a probe on them names the direction (<see cref="MotionProbe"/>); 0: off.</summary>
    public double MotionWeight { get; init; }

    /// <summary>Weight of the training-only probe on the projected frame tokens: the last − first frame token must name the direction (<see cref="FrameMotionProbe"/>); 0: off.</summary>
    public double FrameMotionWeight { get; init; }

    /// <summary>Stop after this many seconds with a resumable checkpoint (0: no limit): a machine lent for minutes.</summary>
    public int MaxSeconds { get; init; }

    /// <summary>cpu, cuda or cuda:N.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Intra-op threads; 0 keeps libtorch's default.</summary>
    public int Threads { get; init; }

    /// <summary>Threads that render and preprocess the next batches while the model trains (0: one per core).</summary>
    public int DataWorkers { get; init; }

    /// <summary>The options of <see cref="Trainer.Usage"/>.</summary>
    public static TrainOptions Parse(IReadOnlyList<string> args)
    {
        var r = new OptionReader(args, new HashSet<string>
        {
            "out", "size", "config", "steps", "batch", "questions", "ask-still", "init", "lr", "warmup", "min-lr-ratio", "weight-decay", "clip", "seed", "scene",
            "save-every", "log-every", "resume", "vision", "sam", "referent-weight", "locator-weight", "iou-head-weight", "attention-guide", "head-box-weight", "head-answer-weight", "motion-weight", "frame-motion-weight", "max-seconds", "device", "threads", "data-workers",
        });
        var d = new TrainOptions { OutputDir = r.String("out") ?? throw new ArgumentException("--out DIR is required") };
        var scene = r.Size("scene");
        return d with
        {
            ModelSize = r.String("size") ?? d.ModelSize,
            ConfigPath = r.String("config"),
            Steps = r.Int("steps") ?? d.Steps,
            BatchSize = r.Int("batch") ?? d.BatchSize,
            QuestionsPerScene = r.Int("questions") ?? d.QuestionsPerScene,
            AskStill = r.Bool("ask-still") ?? d.AskStill,
            InitFrom = r.String("init"),
            LearningRate = r.Double("lr") ?? d.LearningRate,
            WarmupSteps = r.Int("warmup") ?? d.WarmupSteps,
            MinLearningRateRatio = r.Double("min-lr-ratio") ?? d.MinLearningRateRatio,
            WeightDecay = r.Double("weight-decay") ?? d.WeightDecay,
            MaxGradNorm = r.Double("clip") ?? d.MaxGradNorm,
            Seed = r.ULong("seed") ?? d.Seed,
            SceneWidth = scene?.Width ?? d.SceneWidth,
            SceneHeight = scene?.Height ?? d.SceneHeight,
            CheckpointEvery = r.Int("save-every") ?? d.CheckpointEvery,
            LogEvery = r.Int("log-every") ?? d.LogEvery,
            ResumeFrom = r.String("resume"),
            VisionFile = r.String("vision"),
            SamFile = r.String("sam"),
            ReferentWeight = r.Double("referent-weight") ?? d.ReferentWeight,
            LocatorWeight = r.Double("locator-weight") ?? d.LocatorWeight,
            IouHeadWeight = r.Double("iou-head-weight") ?? d.IouHeadWeight,
            AttentionGuide = r.Double("attention-guide") ?? d.AttentionGuide,
            HeadBoxWeight = r.Double("head-box-weight") ?? d.HeadBoxWeight,
            HeadAnswerWeight = r.Double("head-answer-weight") ?? d.HeadAnswerWeight,
            MotionWeight = r.Double("motion-weight") ?? d.MotionWeight,
            FrameMotionWeight = r.Double("frame-motion-weight") ?? d.FrameMotionWeight,
            MaxSeconds = r.Int("max-seconds") ?? d.MaxSeconds,
            Device = r.String("device") ?? d.Device,
            Threads = r.Int("threads") ?? d.Threads,
            DataWorkers = r.Int("data-workers") ?? d.DataWorkers,
        };
    }
}
