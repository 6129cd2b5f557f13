using System.Diagnostics;
using TorchSharp;
using ULlava.Perception.Model;
using ULlava.Perception.Model.Clip;
using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Native;
using ULlava.Training.Samples;
using ULlava.Training.Scenes;
using static TorchSharp.torch;

namespace ULlava.Training.Training;

/// <summary>
/// Trains a u-LLaVA on synthetic scenes: AdamW (no decay on norms and biases), linear warmup + cosine decay, gradient
/// clipping, u-LLaVA's weighted losses, resumable checkpoints in the engine's layout. Deterministic: the seed fixes the
/// initial weights and step s always trains on the same samples, so a resumed run continues the very same run.
/// </summary>
public static class Trainer
{
    public const string Usage =
        """
        train [options]                      train a u-LLaVA on synthetic scenes
          --out DIR                          checkpoints: DIR/checkpoint-STEP, DIR/final (required)
          --size default|tiny                model size (default: default, 7.1M parameters, 28.4 MB)
          --config FILE                      build from this config.json instead (its loss weights too)
          --steps N                          optimizer steps (20000)
          --batch N                          rows (scenes) per step (8)
          --questions N                      questions about each scene, packed in its row after one shared image prefix (1)
          --ask-still true|false             with --questions, also ask a clip about each object that stays, "Still." (false)
          --init DIR                         start from this model folder's weights (new optimizer and aids; --vision/--sam still freeze)
          --lr X                             peak learning rate (3e-4); --warmup N (500), --min-lr-ratio X (0.1)
          --weight-decay X                   AdamW decay on matrices (0.01); --clip X gradient norm (1.0)
          --seed N                           initial weights and sample order (1)
          --scene WxH                        training image size (640x480)
          --save-every N                     resumable checkpoint interval (1000); --log-every N (10)
          --resume DIR                       continue from a checkpoint folder (same --steps: the schedule spans them)
          --vision FILE|DIR                  start from a pretrained vision tower (train-vision's file, or a model folder's tower) and keep it frozen
          --sam FILE|DIR                     start from a pretrained SAM (train-sam's file, or a model folder's SAM) and keep it frozen
          --referent-weight X                weight of the training-only probe that names the [SEG] referent (0: off)
          --locator-weight X                 the same on the [LOC] hidden state, which also names the box centre's cell (0: off)
          --attention-guide X                training-only: the last layers' head 0 at the [LOC]-predicting position looks at the referent's patches,
                                             at an attribute answer's first position at the object asked about, and with
                                             --head-answer-weight at a count answer's at every object of the asked shape (0: off)
          --head-box-weight X                training-only: what that head reads at [LOC] must give the referent's box to a linear probe (0: off)
          --head-answer-weight X             training-only: what it reads at an attribute or count answer must give the answer to a linear probe (0: off)
          --motion-weight X                  training-only: at a video answer heads 0 and 1 of those layers look at the first and the last frame
                                             token, and a linear probe on what they read must name the direction (0: off)
          --frame-motion-weight X            training-only: a linear probe on the projected frame tokens (last − first, at unit RMS) must name
                                             the direction, so the projector makes that difference large (0: off)
          --iou-head-weight X                train SAM's IoU (mask quality) head against its masks' real IoU, also with SAM frozen (0: off)
          --max-seconds N                    stop after N seconds with a resumable checkpoint (0: no limit)
          --device cpu|cuda|cuda:N           (cpu); --threads N intra-op threads (libtorch default)
          --data-workers N                   threads making batches ahead of the model (all cores)
        """;

    public static TrainResult Run(TrainOptions options, Action<string>? log = null)
    {
        log ??= Console.WriteLine;
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.QuestionsPerScene, 1);
        var device = TorchRuntime.Initialize(null, options.Device);
        if (options.Threads > 0) set_num_threads(options.Threads);

        TrainerState? resumed = options.ResumeFrom is null ? null : CheckpointIO.ReadState(options.ResumeFrom);
        ulong seed = resumed?.Seed ?? options.Seed;
        int questions = resumed?.QuestionsPerScene ?? options.QuestionsPerScene;
        bool askStill = resumed?.AskStill ?? options.AskStill;
        string? initFrom = resumed is null ? options.InitFrom : resumed.InitFrom;
        var config = options.ResumeFrom is not null ? ULlavaConfig.Load(Path.Combine(options.ResumeFrom, "config.json"))
                   : options.ConfigPath is not null ? ULlavaConfig.Load(options.ConfigPath)
                   : ModelSizes.ByName(options.ModelSize);
        var weights = options.ConfigPath is not null ? LossWeights.Load(options.ConfigPath)
                    : options.ResumeFrom is not null ? LossWeights.Load(Path.Combine(options.ResumeFrom, "config.json"))
                    : new LossWeights();

        manual_seed((long)(seed & 0x7FFFFFFFFFFFFFFF));
        using var model = new ULlavaForCausalLM(config);
        InitialiseLlm(model);
        if (resumed is not null) CheckpointIO.LoadWeights(options.ResumeFrom!, model);
        else if (initFrom is not null) CheckpointIO.LoadWeights(initFrom, model);
        if (resumed is { FrozenVision: true }) VisionPretrainer.Freeze(model);
        else if (resumed is null && options.VisionFile is not null) VisionPretrainer.LoadFrozen(options.VisionFile, model);
        bool frozenVision = VisionPretrainer.IsFrozen(model);
        if (resumed is { FrozenSam: true }) SamPretrainer.Freeze(model);
        else if (resumed is null && options.SamFile is not null) SamPretrainer.LoadFrozen(options.SamFile, model);
        bool frozenSam = SamPretrainer.IsFrozen(model);
        double iouHeadWeight = resumed?.IouHeadWeight ?? options.IouHeadWeight;
        if (iouHeadWeight > 0) SamPretrainer.UnfreezeIouHead(model);
        double attentionGuide = resumed?.AttentionGuide ?? options.AttentionGuide;
        // The training-only probes (ReferentHead), made after the model (and the locator after the referent probe) so
        // turning one on leaves every earlier initialisation as it was; a resumed run keeps the weights it was started with.
        double referentWeight = resumed?.ReferentWeight ?? options.ReferentWeight;
        double locatorWeight = resumed?.LocatorWeight ?? options.LocatorWeight;
        using var referent = referentWeight > 0 ? new ReferentHead(config.LlmConfig.HiddenSize) : null;
        using var locator = locatorWeight > 0 ? new ReferentHead(config.LlmConfig.HiddenSize, locates: true) : null;
        double headBoxWeight = resumed?.HeadBoxWeight ?? options.HeadBoxWeight;
        using var headBox = headBoxWeight > 0 ? new HeadBoxProbe(config.LlmConfig.HiddenSize / config.LlmConfig.NumAttentionHeads) : null;
        double headAnswerWeight = resumed?.HeadAnswerWeight ?? options.HeadAnswerWeight;
        using var headAnswer = headAnswerWeight > 0 ? new HeadAnswerProbe(config.LlmConfig.HiddenSize / config.LlmConfig.NumAttentionHeads) : null;
        double motionWeight = resumed?.MotionWeight ?? options.MotionWeight;
        using var motion = motionWeight > 0 ? new MotionProbe(config.LlmConfig.HiddenSize / config.LlmConfig.NumAttentionHeads) : null;
        double frameMotionWeight = resumed?.FrameMotionWeight ?? options.FrameMotionWeight;
        using var frameMotion = frameMotionWeight > 0 ? new FrameMotionProbe(config.LlmConfig.HiddenSize) : null;
        if (resumed is not null)
        {
            referent?.Load(options.ResumeFrom!);
            locator?.Load(options.ResumeFrom!);
            headBox?.Load(options.ResumeFrom!);
            headAnswer?.Load(options.ResumeFrom!);
            motion?.Load(options.ResumeFrom!);
            frameMotion?.Load(options.ResumeFrom!);
        }
        if (device.type != DeviceType.CPU)
        {
            model.to(device);
            referent?.to(device);
            locator?.to(device);
            headBox?.to(device);
            headAnswer?.to(device);
            motion?.to(device);
            frameMotion?.to(device);
        }
        model.train();
        var aids = new TrainingAids(referent, referentWeight, locator, locatorWeight, iouHeadWeight, attentionGuide, headBox, headBoxWeight, headAnswer, headAnswerWeight, motion, motionWeight, frameMotion, frameMotionWeight);

        // A frozen vision tower gets no optimizer slots (AdamW would still decay it).
        var trained = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter));
        foreach (var probe in new nn.Module?[] { referent, locator, headBox, headAnswer, motion, frameMotion }.OfType<nn.Module>())
            trained = trained.Concat(probe.named_parameters().Select(p => (probe.GetName() + "." + p.name, p.parameter)));
        using var optimizer = new AdamWOptimizer(trained, weightDecay: options.WeightDecay);
        if (resumed is not null) optimizer.Load(Path.Combine(options.ResumeFrom!, CheckpointIO.OptimizerFile));

        var schedule = new LearningRateSchedule(options.LearningRate, options.WarmupSteps, options.Steps, options.MinLearningRateRatio);
        var processor = new ClipImageProcessor(ModelSizes.Processor(config));
        int workers = options.DataWorkers > 0 ? options.DataWorkers : Environment.ProcessorCount;
        long parameters = model.parameters().Sum(p => p.numel());
        int first = resumed?.Step ?? 0;
        if (resumed is not null && resumed.TotalSteps != options.Steps)
            log($"note: the checkpoint's run had {resumed.TotalSteps} steps, this one {options.Steps}: the learning-rate schedule changes shape");
        log(FormattableString.Invariant($"training {parameters:N0} parameters ({parameters * 4 / 1e6:F1} MB float32) on {device}, steps {first}..{options.Steps}, batch {options.BatchSize}{(questions > 1 ? $" scenes x {questions} questions" : "")}, seed {seed}{(initFrom is not null ? $", from {initFrom}" : "")}{(frozenVision ? ", vision tower pretrained and frozen" : "")}{(frozenSam ? ", SAM pretrained and frozen" : "")}"));

        var losses = new List<LossBreakdown>();
        var started = Stopwatch.GetTimestamp();
        var windowStart = started;
        int windowSteps = 0;
        string last = "";
        using var batches = new BatchPrefetcher(first, options.Steps,
            step => Enumerable.Range(0, options.BatchSize).Select(b => SampleSeed(options, seed, (ulong)step * (ulong)options.BatchSize + (ulong)b)).ToList(),
            () => new SampleFactory(options.SceneWidth, options.SceneHeight), () => new SampleEncoder(TokenizerFiles.Load(), config),
            processor, config.Sam, workers, questionsPerRow: questions, askStill: askStill);
        for (int step = first; step < options.Steps; step++)
        {
            double lr = schedule.At(step);

            optimizer.ZeroGrad();
            LossBreakdown parts;
            using (var batch = batches.Next())
            using (var scope = NewDisposeScope())
            {
                var (total, p) = BatchLoss.Compute(model, batch, weights, aids);
                total.backward();
                // The IoU head reads a detached token: clipped on its own, it leaves everyone else's step as it was.
                optimizer.ClipGradientNorm(options.MaxGradNorm, iouHeadWeight > 0 ? SamPretrainer.IsIouHead : null);
                optimizer.Update(lr);
                parts = p;
            }
            losses.Add(parts);
            windowSteps++;

            int done = step + 1;
            bool outOfTime = options.MaxSeconds > 0 && Stopwatch.GetElapsedTime(started).TotalSeconds >= options.MaxSeconds && done < options.Steps;
            if (done % Math.Max(1, options.LogEvery) == 0 || done == options.Steps || outOfTime)
            {
                double seconds = Stopwatch.GetElapsedTime(windowStart).TotalSeconds;
                log(FormattableString.Invariant($"step {done}/{options.Steps} lr {lr:E2} {parts} | {windowSteps / seconds:F2} it/s"));
                windowStart = Stopwatch.GetTimestamp();
                windowSteps = 0;
            }
            if (options.CheckpointEvery > 0 && done % options.CheckpointEvery == 0 || done == options.Steps || outOfTime)
            {
                last = Path.Combine(options.OutputDir, $"checkpoint-{done}");
                CheckpointIO.WriteResumable(last, model, weights, optimizer, new TrainerState
                {
                    Step = done, Seed = seed, TotalSteps = options.Steps, BatchSize = options.BatchSize, QuestionsPerScene = questions, AskStill = askStill, InitFrom = initFrom, LastLoss = parts.Total, FrozenVision = frozenVision,
                    FrozenSam = frozenSam, ReferentWeight = referentWeight, LocatorWeight = locatorWeight,
                    IouHeadWeight = iouHeadWeight, AttentionGuide = attentionGuide, HeadBoxWeight = headBoxWeight,
                    HeadAnswerWeight = headAnswerWeight, MotionWeight = motionWeight, FrameMotionWeight = frameMotionWeight,
                });
                referent?.Save(last);
                locator?.Save(last);
                headBox?.Save(last);
                headAnswer?.Save(last);
                motion?.Save(last);
                frameMotion?.Save(last);
                log($"saved {last}");
            }
            if (outOfTime)
            {
                log(FormattableString.Invariant($"stopped after {options.MaxSeconds} s at step {done}: resume from {last}"));
                break;
            }
        }
        // The model alone, for eval and the node; a run stopped by --max-seconds points at its resumable checkpoint instead.
        if (last.Length > 0 && first + losses.Count == options.Steps)
        {
            string final = Path.Combine(options.OutputDir, "final");
            CheckpointIO.WriteModel(final, model, weights);
            last = final;
        }
        double rate = losses.Count / Math.Max(1e-9, Stopwatch.GetElapsedTime(started).TotalSeconds);
        return new TrainResult(first, first + losses.Count, losses, rate, last);
    }

    /// <summary>The seed of the <paramref name="index"/>-th training sample of a run.</summary>
    public static ulong SampleSeed(TrainOptions options, ulong runSeed, ulong index)
    {
        if (options.FixedSeeds is { Count: > 0 } fixedSeeds) return fixedSeeds[(int)(index % (ulong)fixedSeeds.Count)];
        return TrainingSplitSeed(runSeed, index);
    }

    /// <summary>The <paramref name="index"/>-th training-split seed of a run: each run seed walks the split from its own offset.</summary>
    public static ulong TrainingSplitSeed(ulong runSeed, ulong index)
    {
        ulong offset = DeterministicRandom.For(runSeed, 11).NextULong() % SplitSeeds.TrainCount;
        return SplitSeeds.Seed(DataSplit.Train, (offset + index) % SplitSeeds.TrainCount);
    }

    /// <summary>
    /// Hugging Face's LLaMA initialisation (normal, std 0.02) for the decoder's matrices; TorchSharp's defaults elsewhere,
    /// except the box head's last bias, which starts at a central box: its output has no activation, and AdamW moves a
    /// bias by about the learning rate per step, so starting at 0 costs hundreds of steps before boxes even land in the image.
    /// </summary>
    private static void InitialiseLlm(ULlavaForCausalLM model)
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in model.Llm.named_parameters())
        {
            if (p.dim() == 2 && !name.StartsWith("vision_", StringComparison.Ordinal)) p.normal_(0, 0.02);
        }
        var boxBias = model.DetDecoder.named_parameters().Single(p => p.name == "4.bias").parameter;
        boxBias.copy_(tensor(new float[] { 0.3f, 0.3f, 0.7f, 0.7f }));
    }
}
