using ULlava.Perception.Core.Frames;
using ULlava.Perception.Core.Inference;
using ULlava.Perception.Model.Inference;
using ULlava.Perception.Model;
using ULlava.Perception.Model.Clip;
using ULlava.Perception.Model.Loading;
using ULlava.Training.Evaluation;
using ULlava.Training.Samples;
using ULlava.Training.Training;
using static TorchSharp.torch;

namespace ULlava.Training.Tests;

/// <summary>Runs the real trainer on the tiny size; one class so the runs never compete for the cores.</summary>
public sealed class TrainerTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "ullava-training-tests-" + Guid.NewGuid().ToString("N"));

    private TrainOptions Tiny(string name, int steps) => new()
    {
        OutputDir = Path.Combine(root, name),
        ModelSize = "tiny",
        Steps = steps,
        BatchSize = 2,
        LearningRate = 3e-3,
        WarmupSteps = 2,
        SceneWidth = 96,
        SceneHeight = 72,
        LogEvery = 1000,
        CheckpointEvery = 0,
        Threads = 2,
    };

    [Fact]
    public void OverfitsAHandfulOfSamples()
    {
        // Two mask samples and two text samples, again and again: every loss term has something to learn.
        var factory = new SampleFactory(96, 72);
        var seeds = new List<ulong>();
        foreach (var kind in new[] { TaskKind.ReferringSegmentation, TaskKind.Count, TaskKind.ReferringSegmentation, TaskKind.Attribute })
            seeds.Add(Enumerable.Range(0, 1000).Select(i => (ulong)i).First(s => SampleFactory.KindOf(s) == kind && !seeds.Contains(s)));
        var result = Trainer.Run(Tiny("overfit", 30) with { BatchSize = 4, FixedSeeds = seeds }, _ => { });
        var totals = result.Losses.Select(l => l.Total).ToList();
        double initial = totals.Take(3).Average(), final = totals.TakeLast(5).Average();
        Assert.True(final < 0.5 * initial, $"loss {initial:F3} → {final:F3}: {string.Join(" ", totals.Select(t => t.ToString("F2")))}");
        Assert.All(result.Losses, l => Assert.Equal(2, l.MaskSamples));
    }

    [Fact]
    public void AttentionGuidanceTeachesTheLocPositionWhereToLook()
    {
        // Two referring samples again and again: head 0 of the last layers learns to look at each one's referent.
        var seeds = Enumerable.Range(0, 1000).Select(i => (ulong)i).Where(s => SampleFactory.KindOf(s) == TaskKind.ReferringSegmentation).Take(2).ToList();
        var result = Trainer.Run(Tiny("guided", 40) with { BatchSize = 2, FixedSeeds = seeds, AttentionGuide = 1 }, _ => { });
        var guide = result.Losses.Select(l => l.Guide!.Value).ToList();
        Assert.True(guide.TakeLast(5).Average() < 0.5 * guide.Take(3).Average(), string.Join(" ", guide.Select(g => g.ToString("F2"))));
        Assert.Equal(1, CheckpointIO.ReadState(result.FinalCheckpoint.Replace("final", "checkpoint-40")).AttentionGuide);
    }

    [Fact]
    public void HeadBoxProbeLearnsAndItsGradientReachesTheGuidedHeadsValues()
    {
        // Two referring samples again and again: the probe's loss falls.
        var seeds = Enumerable.Range(0, 1000).Select(i => (ulong)i).Where(s => SampleFactory.KindOf(s) == TaskKind.ReferringSegmentation).Take(2).ToList();
        var probed = Trainer.Run(Tiny("guided-probed", 30) with { FixedSeeds = seeds, AttentionGuide = 1, HeadBoxWeight = 1 }, _ => { });
        var headBox = probed.Losses.Select(l => l.HeadBox!.Value).ToList();
        Assert.True(headBox.TakeLast(5).Average() < 0.5 * headBox.Take(3).Average(), string.Join(" ", headBox.Select(g => g.ToString("F3"))));
        Assert.True(File.Exists(Path.Combine(probed.FinalCheckpoint.Replace("final", "checkpoint-30"), HeadBoxProbe.FileName)));

        // The probe's loss alone reaches the last layer's value projection, which nothing after that layer reads but its
        // attention output (a detached head output would leave it without a gradient).
        var config = ModelSizes.ByName("tiny");
        manual_seed(5);
        using var model = new ULlavaForCausalLM(config);
        model.train();
        using var probe = new HeadBoxProbe(config.LlmConfig.HiddenSize / config.LlmConfig.NumAttentionHeads);
        var encoder = new SampleEncoder(TokenizerFiles.Load(), config);
        var factory = new SampleFactory(96, 72);
        using var batch = TrainingBatch.Prepare(seeds.Select(s => encoder.Encode(factory.Create(s))).ToList(), new(ModelSizes.Processor(config)), config.Sam);
        var nothingElse = new LossWeights { Ce = 0, Bce = 0, Dice = 0, L1 = 0, Iou = 0 };
        var (total, parts) = BatchLoss.Compute(model, batch, nothingElse, new TrainingAids(HeadBox: probe, HeadBoxWeight: 1));
        total.backward();
        Assert.True(parts.HeadBox > 0);
        var lastV = model.named_parameters().Single(p => p.name == $"llm.model.layers.{config.LlmConfig.NumHiddenLayers - 1}.self_attn.v_proj.weight").parameter;
        Assert.True(lastV.grad is not null && lastV.grad.abs().max().item<float>() > 0, "no gradient reached the last layer's v_proj");
    }

    [Fact]
    public void AnswerAndMotionProbesLearnAndTheirGradientsReachTheGuidedHeadsValues()
    {
        // An attribute, a count and two video samples again and again: both probes' losses fall.
        var seeds = new[] { TaskKind.Attribute, TaskKind.Count, TaskKind.VideoDirection, TaskKind.VideoDirection }
            .Select((kind, i) => Enumerable.Range(0, 1000).Select(s => (ulong)s).Where(s => SampleFactory.KindOf(s) == kind).Skip(i).First()).ToList();
        var probed = Trainer.Run(Tiny("answer-motion", 30) with { BatchSize = 4, FixedSeeds = seeds, AttentionGuide = 1, HeadAnswerWeight = 1, MotionWeight = 1 }, _ => { });
        foreach (var (name, losses) in new[] { ("head answer", probed.Losses.Select(l => l.HeadAnswer!.Value).ToList()), ("motion", probed.Losses.Select(l => l.Motion!.Value).ToList()) })
            Assert.True(losses.TakeLast(5).Average() < 0.5 * losses.Take(3).Average(), $"{name}: {string.Join(" ", losses.Select(g => g.ToString("F3")))}");
        string last = probed.FinalCheckpoint.Replace("final", "checkpoint-30");
        Assert.True(File.Exists(Path.Combine(last, HeadAnswerProbe.FileName)) && File.Exists(Path.Combine(last, MotionProbe.FileName)));

        // Each probe's loss alone reaches the last layer's value projection.
        var config = ModelSizes.ByName("tiny");
        var encoder = new SampleEncoder(TokenizerFiles.Load(), config);
        var factory = new SampleFactory(96, 72);
        int headDim = config.LlmConfig.HiddenSize / config.LlmConfig.NumAttentionHeads;
        var nothingElse = new LossWeights { Ce = 0, Bce = 0, Dice = 0, L1 = 0, Iou = 0 };
        foreach (bool motion in new[] { false, true })
        {
            manual_seed(5);
            using var model = new ULlavaForCausalLM(config);
            model.train();
            using var answerProbe = new HeadAnswerProbe(headDim);
            using var motionProbe = new MotionProbe(headDim);
            using var batch = TrainingBatch.Prepare(seeds.Select(s => encoder.Encode(factory.Create(s))).ToList(), new(ModelSizes.Processor(config)), config.Sam);
            var aids = motion ? new TrainingAids(Motion: motionProbe, MotionWeight: 1) : new TrainingAids(HeadAnswer: answerProbe, HeadAnswerWeight: 1);
            var (total, parts) = BatchLoss.Compute(model, batch, nothingElse, aids);
            total.backward();
            Assert.True(motion ? parts.Motion > 0 && parts.HeadAnswer is null : parts.HeadAnswer > 0 && parts.Motion is null);
            var lastV = model.named_parameters().Single(p => p.name == $"llm.model.layers.{config.LlmConfig.NumHiddenLayers - 1}.self_attn.v_proj.weight").parameter;
            Assert.True(lastV.grad is not null && lastV.grad.abs().max().item<float>() > 0, $"no gradient reached the last layer's v_proj ({(motion ? "motion" : "answer")} probe)");
        }

        // The frame motion probe's loss alone reaches the projector, and nothing in the LLM.
        {
            manual_seed(5);
            using var model = new ULlavaForCausalLM(config);
            model.train();
            using var frameProbe = new FrameMotionProbe(config.LlmConfig.HiddenSize);
            using var batch = TrainingBatch.Prepare(seeds.Select(s => encoder.Encode(factory.Create(s))).ToList(), new(ModelSizes.Processor(config)), config.Sam);
            var (total, parts) = BatchLoss.Compute(model, batch, nothingElse, new TrainingAids(FrameMotion: frameProbe, FrameMotionWeight: 1));
            total.backward();
            Assert.True(parts.FrameMotion > 0 && parts.Motion is null, parts.ToString());
            Assert.All(model.Projector.parameters(), p => Assert.True(p.grad is not null && p.grad.abs().max().item<float>() > 0, "no gradient reached the projector"));
            Assert.All(model.Llm.Model.parameters(), p => Assert.True(p.grad is null || p.grad.abs().max().item<float>() == 0, "the frame motion probe sent a gradient into the LLM"));
        }

        // Count answers are guided only beside the answer probe: a run without it trains as it did before counts had targets.
        var countSeeds = Enumerable.Range(0, 1000).Select(s => (ulong)s).Where(s => SampleFactory.KindOf(s) == TaskKind.Count)
            .Where(s => encoder.Encode(factory.Create(s)).ReferentPatches is not null).Take(2).ToList();
        foreach (bool withProbe in new[] { false, true })
        {
            manual_seed(5);
            using var model = new ULlavaForCausalLM(config);
            using var answerProbe = new HeadAnswerProbe(headDim);
            using var counts = TrainingBatch.Prepare(countSeeds.Select(s => encoder.Encode(factory.Create(s))).ToList(), new(ModelSizes.Processor(config)), config.Sam);
            var aids = withProbe ? new TrainingAids(AttentionGuide: 1, HeadAnswer: answerProbe, HeadAnswerWeight: 1) : new TrainingAids(AttentionGuide: 1);
            var (total, parts) = BatchLoss.Compute(model, counts, nothingElse, aids);
            total.Dispose();
            Assert.Equal(withProbe, parts.Guide > 0);
        }
    }

    [Fact]
    public void CheckpointLoadsInTheEngineAndSegments()
    {
        var result = Trainer.Run(Tiny("engine", 2), _ => { });
        Assert.Equal(Path.Combine(root, "engine", "final"), result.FinalCheckpoint);
        Assert.Equal(2.0, LossWeights.Load(Path.Combine(result.FinalCheckpoint, "config.json")).Bce);
        using var engine = ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = result.FinalCheckpoint });
        var sample = new SampleFactory(96, 72).Create(3, TaskKind.ReferringSegmentation);
        using var frame = engine.Encode(new Frame(new FrameStamp("t", 0, 0), sample.Width, sample.Height, sample.Frames[0]));
        var answer = engine.Run(frame, new InstructionRequest(sample.Question, InstructionKind.Segment));
        var mask = Assert.Single(answer.Masks);
        Assert.Equal(96 * 72, mask.Pixels.Length);
        Assert.Single(answer.Boxes);
        Assert.Equal("Sure. Mask: ; Location:", answer.Text.Trim());

        // The evaluator runs every task through the same engine API and reports each metric.
        var report = Evaluator.Run(new EvalOptions { ModelDir = result.FinalCheckpoint, SamplesPerTask = 2, Width = 96, Height = 72, MaxNewTokens = 8 }, _ => { });
        Assert.Equal(12, report.Counts.Values.Sum());
        Assert.InRange(report.MeanIoU, 0, 1);
        Assert.InRange(report.BoxAccuracy50, 0, 1);
        Assert.Contains(TaskKind.Count, report.ExactMatch.Keys);
        Assert.Contains(TaskKind.VideoDirection, report.ExactMatch.Keys);
        Assert.False(report.MeetsTargets); // two steps of training answer nothing right
        Assert.Contains("video direction accuracy", report.Format());
        // The image-reliance probe: every task, own image against another's (the swapped image changes the loss).
        Assert.Equal(6, report.ImageReliance.Count);
        Assert.All(report.ImageReliance, r => Assert.True(r.OwnImageLoss > 0 && r.OtherImageLoss > 0 && r.OwnImageLoss != r.OtherImageLoss, $"{r}"));
        Assert.Contains("image reliance (Attribute)", report.Format());
    }

    [Fact]
    public void APretrainedSamLearnsItsPromptsAndStaysFrozenThroughTrainingAndResume()
    {
        string samDir = Path.Combine(root, "sam");
        var losses = SamPretrainer.Run(new PretrainOptions
        {
            OutputDir = samDir, ModelSize = "tiny", Steps = 48, BatchSize = 4, LearningRate = 3e-3, WarmupSteps = 4,
            SceneWidth = 96, SceneHeight = 72, LogEvery = 1000, Threads = 2, DataWorkers = 2,
        }, _ => { });
        // Whole cycles of the four prompt kinds (semantic, semantic, box, point), first against last.
        Assert.True(losses.TakeLast(12).Average() < 0.8 * losses.Take(12).Average(), string.Join(" ", losses.Select(l => l.ToString("F2"))));
        string file = Path.Combine(samDir, SamPretrainer.OutputFile);
        var pretrained = TorchSharp.PyBridge.Safetensors.LoadStateDict(file);
        Assert.Contains("mask_decoder.output_upscaling.0.weight", pretrained.Keys); // SAM's own key names

        var run = Trainer.Run(Tiny("sam-frozen", 4) with { SamFile = file, CheckpointEvery = 2 }, _ => { });
        Assert.True(CheckpointIO.ReadState(Path.Combine(root, "sam-frozen", "checkpoint-2")).FrozenSam);
        var resumed = Trainer.Run(Tiny("sam-frozen-resumed", 4) with { ResumeFrom = Path.Combine(root, "sam-frozen", "checkpoint-2"), CheckpointEvery = 2 }, _ => { });
        foreach (string checkpoint in new[] { run.FinalCheckpoint, resumed.FinalCheckpoint })
        {
            var weights = CheckpointWeights.Load(checkpoint);
            // Every SAM tensor is stage 1's, bit for bit.
            foreach (var (name, tensor) in pretrained)
                Assert.True(weights["visual_model." + name].eq(tensor).all().item<bool>(), $"{checkpoint}: visual_model.{name} changed");
            foreach (var t in weights.Values) t.Dispose();
        }
        Assert.NotEqual(run.Losses[0].Total, run.Losses[^1].Total);

        // --iou-head-weight: SAM's IoU head learns, the rest of SAM stays stage 1's, and everything outside SAM takes the
        // very steps it took without it (the head reads a detached token and is clipped on its own).
        var withIou = Trainer.Run(Tiny("sam-frozen-iou", 4) with { SamFile = file, IouHeadWeight = 1 }, _ => { });
        Assert.All(withIou.Losses.Where(l => l.MaskSamples > 0), l => Assert.NotNull(l.IouHead));
        var plain = CheckpointWeights.Load(run.FinalCheckpoint);
        var iou = CheckpointWeights.Load(withIou.FinalCheckpoint);
        foreach (var (name, tensor) in iou)
        {
            bool same = tensor.eq(plain[name]).all().item<bool>();
            Assert.True(same != SamPretrainer.IsIouHead(name), $"{name}: {(same ? "did not learn" : "changed")}");
        }
        Assert.True(CheckpointIO.ReadState(withIou.FinalCheckpoint.Replace("final", "checkpoint-4")).IouHeadWeight == 1);
        foreach (var t in plain.Values.Concat(iou.Values)) t.Dispose();
        foreach (var t in pretrained.Values) t.Dispose();
    }

    [Fact]
    public void APretrainedVisionTowerLearnsItsPatchesAndStaysFrozenThroughTrainingAndResume()
    {
        string visionDir = Path.Combine(root, "vision");
        var losses = VisionPretrainer.Run(new PretrainOptions
        {
            OutputDir = visionDir, ModelSize = "tiny", Steps = 60, BatchSize = 4, LearningRate = 3e-3, WarmupSteps = 3,
            SceneWidth = 96, SceneHeight = 72, LogEvery = 1000, Threads = 2,
        }, _ => { });
        Assert.True(losses.TakeLast(5).Average() < 0.7 * losses.Take(5).Average(), string.Join(" ", losses.Select(l => l.ToString("F2"))));
        string file = Path.Combine(visionDir, VisionPretrainer.OutputFile);
        var pretrained = TorchSharp.PyBridge.Safetensors.LoadStateDict(file);

        var run = Trainer.Run(Tiny("frozen", 4) with { VisionFile = file, CheckpointEvery = 2 }, _ => { });
        Assert.True(CheckpointIO.ReadState(Path.Combine(root, "frozen", "checkpoint-2")).FrozenVision);
        var resumed = Trainer.Run(Tiny("frozen-resumed", 4) with { ResumeFrom = Path.Combine(root, "frozen", "checkpoint-2"), CheckpointEvery = 2 }, _ => { });
        foreach (string checkpoint in new[] { run.FinalCheckpoint, resumed.FinalCheckpoint })
        {
            var weights = CheckpointWeights.Load(checkpoint);
            // The tower is the pretrained one, bit for bit; the rest of the model did train.
            foreach (var (name, tensor) in pretrained)
                Assert.True(weights["llm.vision_encoder." + name].eq(tensor).all().item<bool>(), $"{checkpoint}: llm.vision_encoder.{name} changed");
            foreach (var t in weights.Values) t.Dispose();
        }
        Assert.NotEqual(run.Losses[0].Total, run.Losses[^1].Total);
        foreach (var t in pretrained.Values) t.Dispose();
    }

    [Fact]
    public void ATimeBudgetStopsTheRunWithAResumableCheckpoint()
    {
        var result = Trainer.Run(Tiny("budget", 100_000) with { MaxSeconds = 2 }, _ => { });
        Assert.InRange(result.LastStep, 1, 99_999);
        Assert.Equal(Path.Combine(root, "budget", $"checkpoint-{result.LastStep}"), result.FinalCheckpoint);
        Assert.Equal(result.LastStep, CheckpointIO.ReadState(result.FinalCheckpoint).Step);
        Assert.False(Directory.Exists(Path.Combine(root, "budget", "final"))); // the run is not over
    }

    [Fact]
    public void InitStartsFromAModelsWeightsWithANewOptimizer()
    {
        var source = Trainer.Run(Tiny("init-source", 2), _ => { });
        // At a learning rate of 0 nothing moves: the run's weights are the source's, bit for bit.
        var still = Trainer.Run(Tiny("init-still", 1) with { InitFrom = source.FinalCheckpoint, LearningRate = 0, WarmupSteps = 0, Seed = 7, CheckpointEvery = 1 }, _ => { });
        var a = CheckpointWeights.Load(source.FinalCheckpoint);
        var b = CheckpointWeights.Load(still.FinalCheckpoint);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        Assert.All(a, kv => Assert.True(kv.Value.eq(b[kv.Key]).all().item<bool>(), kv.Key));
        Assert.Equal(source.FinalCheckpoint, CheckpointIO.ReadState(Path.Combine(root, "init-still", "checkpoint-1")).InitFrom);
        foreach (var t in a.Values.Concat(b.Values)) t.Dispose();
    }

    [Fact]
    public void FrameMotionProbeLearnsTheDirectionOfClipsFromTheProjectedFrameTokens()
    {
        // Clips of two different directions again and again: the probe's loss falls as the projector parts their frame tokens.
        var clips = Enumerable.Range(0, 1000).Select(s => (ulong)s).Where(s => SampleFactory.KindOf(s) == TaskKind.VideoDirection)
            .Select(s => (Seed: s, Class: FrameMotionProbe.ClassOf(new SampleFactory(96, 72).Create(s)))).ToList();
        var seeds = new[] { clips[0], clips.First(c => c.Class != clips[0].Class) }.Select(c => c.Seed).ToList();
        var run = Trainer.Run(Tiny("frame-motion", 30) with { BatchSize = 2, FixedSeeds = seeds, FrameMotionWeight = 1 }, _ => { });
        var losses = run.Losses.Select(l => l.FrameMotion!.Value).ToList();
        Assert.True(losses.TakeLast(5).Average() < 0.5 * losses.Take(3).Average(), string.Join(" ", losses.Select(g => g.ToString("F3"))));
        Assert.True(File.Exists(Path.Combine(root, "frame-motion", "checkpoint-30", FrameMotionProbe.FileName)));
        // The probe is training-only: the model's checkpoint layout is the engine's, without it.
        var saved = CheckpointWeights.Load(run.FinalCheckpoint);
        Assert.DoesNotContain(saved.Keys, k => k.Contains("frame_motion", StringComparison.Ordinal));
        foreach (var t in saved.Values) t.Dispose();
        // A still object's question about a moving clip names the clip's motion, not its own answer.
        var factory = new SampleFactory(96, 72);
        var group = Enumerable.Range(0, 300).Select(s => factory.CreateGroup((ulong)s, 4, askStill: true))
            .First(g => g.Count(q => q.IsVideo) >= 2 && g[0].Answer != "Still.");
        Assert.All(group.Skip(1), q => Assert.Equal(("Still.", FrameMotionProbe.ClassOf(group[0])), (q.Answer, FrameMotionProbe.ClassOf(q))));
        Assert.Equal(-1, FrameMotionProbe.ClassOf(new SampleFactory(96, 72).Create(Enumerable.Range(0, 100).Select(s => (ulong)s).First(s => SampleFactory.KindOf(s) == TaskKind.Caption))));
    }

    [Theory]
    [InlineData(0.0, 0.0, 0.0, 0.0, 1)]
    [InlineData(0.5, 0.0, 0.0, 0.0, 1)] // with the training-only referent probe, which travels in the checkpoint beside the model
    [InlineData(0.5, 0.7, 0.0, 0.0, 1)] // and the locator probe too
    [InlineData(0.0, 0.0, 0.6, 0.0, 1)] // the head box probe, with the attention guidance
    [InlineData(0.0, 0.0, 0.0, 0.8, 1)] // the head answer and motion probes, with the attention guidance
    [InlineData(0.5, 0.0, 0.6, 0.8, 3)] // three questions a scene (packed rows; the resume is not told, the checkpoint is)
    public void ResumeContinuesTheSameRun(double referentWeight, double locatorWeight, double headBoxWeight, double answerWeight, int questions)
    {
        string name = $"straight-{referentWeight}-{locatorWeight}-{headBoxWeight}-{answerWeight}-{questions}", resumedName = $"resumed-{referentWeight}-{locatorWeight}-{headBoxWeight}-{answerWeight}-{questions}";
        // With the head probes every batch holds samples they learn on: referring ones for the box, an attribute and a
        // video sample for the answer and motion probes.
        List<ulong>? seeds = null;
        ulong First(TaskKind kind) => Enumerable.Range(0, 1000).Select(i => (ulong)i).First(s => SampleFactory.KindOf(s) == kind);
        if (headBoxWeight > 0) seeds = Enumerable.Range(0, 1000).Select(i => (ulong)i).Where(s => SampleFactory.KindOf(s) == TaskKind.ReferringSegmentation).Take(2).ToList();
        if (answerWeight > 0) seeds = [First(TaskKind.Attribute), First(TaskKind.VideoDirection)];
        if (questions > 1) seeds = null; // the training split's scenes: groups of every kind
        var straight = Trainer.Run(Tiny(name, 4) with
        {
            QuestionsPerScene = questions,
            CheckpointEvery = 2, ReferentWeight = referentWeight, LocatorWeight = locatorWeight, HeadBoxWeight = headBoxWeight,
            HeadAnswerWeight = answerWeight, MotionWeight = answerWeight, FrameMotionWeight = answerWeight,
            AttentionGuide = headBoxWeight > 0 || answerWeight > 0 ? 1 : 0, FixedSeeds = seeds,
        }, _ => { });
        string middle = Path.Combine(root, name, "checkpoint-2");
        Assert.Equal(2, CheckpointIO.ReadState(middle).Step);
        Assert.Equal(referentWeight > 0, File.Exists(Path.Combine(middle, ReferentHead.SegFile)));
        Assert.Equal(locatorWeight > 0, File.Exists(Path.Combine(middle, ReferentHead.LocFile)));
        Assert.Equal(referentWeight > 0, straight.Losses.All(l => l.Referent is not null));
        Assert.Equal(locatorWeight > 0, straight.Losses.All(l => l.Locator is not null));
        Assert.Equal(headBoxWeight > 0, File.Exists(Path.Combine(middle, HeadBoxProbe.FileName)));
        // Fixed seeds give every batch what each probe learns on; packed scenes from the split give it some batches.
        bool Steps(Func<LossBreakdown, bool> has) => questions == 1 ? straight.Losses.All(has) : straight.Losses.Any(has);
        Assert.Equal(headBoxWeight > 0, Steps(l => l.HeadBox is > 0));
        Assert.Equal(answerWeight > 0, File.Exists(Path.Combine(middle, HeadAnswerProbe.FileName)) && File.Exists(Path.Combine(middle, MotionProbe.FileName))
                                       && File.Exists(Path.Combine(middle, FrameMotionProbe.FileName)));
        Assert.Equal(answerWeight > 0, Steps(l => l.HeadAnswer is > 0) && Steps(l => l.Motion is > 0) && Steps(l => l.FrameMotion is > 0));
        var resumed = Trainer.Run(Tiny(resumedName, 4) with { CheckpointEvery = 2, ResumeFrom = middle, Seed = 999, FixedSeeds = seeds }, _ => { });
        Assert.Equal(2, resumed.FirstStep);
        Assert.Equal(2, resumed.Losses.Count);
        Assert.Equal(straight.Losses[2].Total, resumed.Losses[0].Total, 5);
        Assert.Equal(straight.Losses[3].Total, resumed.Losses[1].Total, 5);

        string a = Path.Combine(root, name, "checkpoint-4"), b = Path.Combine(root, resumedName, "checkpoint-4");
        var wa = CheckpointWeights.Load(a);
        var wb = CheckpointWeights.Load(b);
        Assert.Equal(wa.Keys.Order(), wb.Keys.Order());
        // Same samples, same state, same arithmetic: the weights agree exactly.
        var diffs = wa.Select(kv => (Key: kv.Key, MaxDiff: (kv.Value - wb[kv.Key]).abs().max().item<float>())).Where(d => d.MaxDiff > 0).ToList();
        Assert.True(diffs.Count == 0, string.Join("\n", diffs.Select(d => $"{d.Key} differs by up to {d.MaxDiff}")));
        Assert.Equal(CheckpointIO.ReadState(a) with { LastLoss = 0 }, CheckpointIO.ReadState(b) with { LastLoss = 0 });
        // The optimizer state (step counts, both moments) is the same bytes as the uninterrupted run's.
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, CheckpointIO.OptimizerFile)), File.ReadAllBytes(Path.Combine(b, CheckpointIO.OptimizerFile)));
        foreach (var (weight, file) in new[] { (referentWeight, ReferentHead.SegFile), (locatorWeight, ReferentHead.LocFile), (headBoxWeight, HeadBoxProbe.FileName),
                                                     (answerWeight, HeadAnswerProbe.FileName), (answerWeight, MotionProbe.FileName), (answerWeight, FrameMotionProbe.FileName) })
            if (weight > 0) Assert.Equal(File.ReadAllBytes(Path.Combine(a, file)), File.ReadAllBytes(Path.Combine(b, file)));
        foreach (var t in wa.Values.Concat(wb.Values)) t.Dispose();
    }

    public void Dispose()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }
}
