using TorchSharp;
using ULlava.Perception.Model;
using ULlava.Perception.Model.Clip;
using ULlava.Perception.Model.Heads;
using ULlava.Perception.Model.Native;
using ULlava.Training.Scenes;
using static TorchSharp.torch;

namespace ULlava.Training.Training;

/// <summary>
/// Stage 0: pretrains the CLIP vision tower on its own, as u-LLaVA starts from a pretrained, frozen CLIP. Trained
/// from scratch through the LLM alone, the tower gets almost no gradient (the LLM's first norm divides it by the
/// visual tokens' size), its features drift to hundreds and the LLM learns to answer without the image (measured:
/// eval's image-reliance ratio stayed 1.00 after 4000 steps). Here every patch token is taught, through a linear
/// probe that is thrown away, what the scene generator knows of that patch: which colours and shapes cover it,
/// whether an object does, that object's box and the patch's own place. The LLM then reads frozen tokens that
/// already say what is where.
/// </summary>
public static class VisionPretrainer
{
    public static string Usage =>
        """
        train-vision [options]               stage 0: pretrain the CLIP vision tower on synthetic scenes
          --out DIR                          writes DIR/vision_encoder.safetensors (required), stage 2 takes it (frozen) as its vision FILE

        """ + PretrainOptions.Usage(Defaults);

    public const string OutputFile = "vision_encoder.safetensors";

    /// <summary>A patch's share of an object's pixels from which the patch counts as showing it.</summary>
    public const double CoverageThreshold = 0.1;

    private static readonly int Colours = SceneColour.Palette.Count;
    private static readonly int Shapes = Enum.GetValues<ShapeKind>().Length;

    /// <summary>Per patch: colour and shape multi-hot, object present (the BCE part), then the object's box and the patch centre.</summary>
    public static int TargetWidth => Colours + Shapes + 1 + 4 + 2;

    private static int BinaryTargets => Colours + Shapes + 1;

    /// <summary>
    /// The probe's targets for a scene on a <paramref name="grid"/>×<paramref name="grid"/> patch grid over the
    /// square the frame is centred in (the CLIP processor pads to square): [grid·grid, <see cref="TargetWidth"/>],
    /// boxes and centres normalised to that square as the [LOC] head predicts them.
    /// </summary>
    public static float[] Targets(Scene scene, int grid)
    {
        var (padX, padY, side) = SquareBoxMapping.SquareOffsets(scene.Height, scene.Width);
        double patch = (double)side / grid;
        var targets = new float[grid * grid * TargetWidth];
        var best = new double[grid * grid];
        var covered = new int[grid * grid];
        foreach (var o in scene.Objects)
        {
            Array.Clear(covered);
            int colour = IndexOf(SceneColour.Palette, o.Colour);
            int x0 = (int)o.Box.XMin, x1 = (int)o.Box.XMax, y0 = (int)o.Box.YMin, y1 = (int)o.Box.YMax;
            for (int y = y0; y < y1; y++)
            {
                int row = Math.Min(grid - 1, (int)((y + padY) / patch));
                for (int x = x0; x < x1; x++)
                    if (o.Mask[y * scene.Width + x] != 0) covered[row * grid + Math.Min(grid - 1, (int)((x + padX) / patch))]++;
            }
            for (int p = 0; p < covered.Length; p++)
            {
                double share = covered[p] / (patch * patch);
                if (share < CoverageThreshold) continue;
                int at = p * TargetWidth;
                targets[at + colour] = 1;
                targets[at + Colours + (int)o.Shape] = 1;
                targets[at + Colours + Shapes] = 1;
                if (share <= best[p]) continue;
                best[p] = share;
                targets[at + BinaryTargets + 0] = (o.Box.XMin + padX) / side;
                targets[at + BinaryTargets + 1] = (o.Box.YMin + padY) / side;
                targets[at + BinaryTargets + 2] = (o.Box.XMax + padX) / side;
                targets[at + BinaryTargets + 3] = (o.Box.YMax + padY) / side;
            }
        }
        for (int p = 0; p < grid * grid; p++)
        {
            targets[p * TargetWidth + BinaryTargets + 4] = (float)((p % grid + 0.5) / grid);
            targets[p * TargetWidth + BinaryTargets + 5] = (float)((p / grid + 0.5) / grid);
        }
        return targets;
    }

    private static int IndexOf(IReadOnlyList<SceneColour> palette, SceneColour colour)
    {
        for (int i = 0; i < palette.Count; i++)
            if (palette[i] == colour) return i;
        throw new ArgumentException($"colour {colour.Name} is not in the palette", nameof(colour));
    }

    /// <summary>The probe's loss on patch tokens [B, N, C] against <see cref="Targets"/> [B, N, TargetWidth].</summary>
    public static Tensor Loss(Tensor predicted, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var binary = nn.functional.binary_cross_entropy_with_logits(predicted[.., .., ..BinaryTargets], targets[.., .., ..BinaryTargets]);
        var present = targets[.., .., BinaryTargets - 1].unsqueeze(-1);
        var boxError = (predicted[.., .., BinaryTargets..(BinaryTargets + 4)] - targets[.., .., BinaryTargets..(BinaryTargets + 4)]).abs() * present;
        var box = boxError.sum() / (present.sum() * 4 + 1e-6);
        var centre = nn.functional.l1_loss(predicted[.., .., (BinaryTargets + 4)..], targets[.., .., (BinaryTargets + 4)..]);
        return (binary + box + centre).MoveToOuterDisposeScope();
    }

    /// <summary>Stage 0's defaults (2000 steps of 16).</summary>
    public static PretrainOptions Defaults { get; } = new() { Steps = 2000 };

    /// <summary>One sample: CLIP's pixels of a scene and its per-patch targets.</summary>
    private sealed record Sample(Tensor Pixels, float[] Targets) : IDisposable
    {
        public void Dispose() => Pixels.Dispose();
    }

    /// <summary>Trains and writes <c>OutputDir/vision_encoder.safetensors</c>; returns the loss of every step.</summary>
    public static IReadOnlyList<double> Run(PretrainOptions options, Action<string>? log = null)
    {
        log ??= Console.WriteLine;
        var device = TorchRuntime.Initialize(null, options.Device);
        if (options.Threads > 0) set_num_threads(options.Threads);
        var config = ModelSizes.ByName(options.ModelSize);
        manual_seed((long)(options.Seed & 0x7FFFFFFFFFFFFFFF));
        // The tower as the full model builds it (same config, same initialisation), then a linear probe on its tokens.
        using var model = new ULlavaForCausalLM(config);
        var tower = model.VisionTower;
        var vision = config.LlmConfig.VisionConfig;
        int grid = vision.ImageSize / vision.PatchSize;
        using var probe = nn.Linear(vision.HiddenSize, TargetWidth);
        if (device.type != DeviceType.CPU)
        {
            tower.to(device);
            probe.to(device);
        }
        tower.train();
        var parameters = tower.named_parameters().Select(p => ("tower." + p.name, p.parameter))
            .Concat(probe.named_parameters().Select(p => ("probe." + p.name, p.parameter))).ToList();
        using var optimizer = new AdamWOptimizer(parameters);
        var schedule = new LearningRateSchedule(options.LearningRate, options.WarmupSteps, options.Steps);
        var processor = new ClipImageProcessor(ModelSizes.Processor(config));
        log(FormattableString.Invariant($"pretraining the {vision.HiddenSize}-wide, {vision.NumHiddenLayers}-layer vision tower ({grid}x{grid} patches) on {device}, {options.Steps} steps, batch {options.BatchSize}"));
        var losses = PretrainLoop.Run(options, log,
            (generator, seed) =>
            {
                var scene = generator.Generate(seed);
                return new Sample(processor.Preprocess(scene.Rgb, scene.Width, scene.Height), Targets(scene, grid));
            },
            (batch, step) =>
            {
                optimizer.ZeroGrad();
                var pixels = cat(batch.Select(s => s.Pixels).ToArray(), 0).to(device);
                var targets = tensor(batch.SelectMany(s => s.Targets).ToArray(), new long[] { batch.Length, grid * grid, TargetWidth }).to(device);
                var loss = Loss(probe.forward(tower.forward(pixels)), targets);
                loss.backward();
                optimizer.ClipGradientNorm(1.0);
                optimizer.Update(schedule.At(step));
                return loss.item<float>();
            });
        Directory.CreateDirectory(options.OutputDir);
        string path = Path.Combine(options.OutputDir, OutputFile);
        ModuleWeights.Save(tower, path);
        log($"saved {path} after {losses.Count} steps");
        return losses;
    }

    /// <summary>Loads a pretrained tower into <paramref name="model"/> and freezes it (u-LLaVA trains with CLIP frozen).</summary>
    public static void LoadFrozen(string path, ULlavaForCausalLM model)
    {
        ModuleWeights.Load(model.VisionTower, path, "the pretrained vision tower (train-vision writes it)");
        Freeze(model);
    }

    /// <summary>Stops gradients into the vision tower (its weights still travel in every checkpoint).</summary>
    public static void Freeze(ULlavaForCausalLM model)
    {
        foreach (var p in model.VisionTower.parameters()) p.requires_grad_(false);
    }

    public static bool IsFrozen(ULlavaForCausalLM model) => model.VisionTower.parameters().All(p => !p.requires_grad);
}
