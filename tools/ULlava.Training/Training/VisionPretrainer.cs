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
/// probe that is thrown away, what the scene generator knows of that patch: the colour and shape of the object covering
/// most of it (or none), that object's box and the patch's own place. The LLM then reads frozen tokens that already say
/// what is where. <see cref="ObjectFeatureProbe"/> measures what the tokens carry per object when the stage ends.
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

    /// <summary>
    /// Per patch: the colour class and the shape class of the object covering most of it (index <c>Colours</c> /
    /// <c>Shapes</c>: none), that object's box and the patch centre; then the frame's summary, the same on every patch:
    /// per colour whether it is there and the centre of its pixels, per shape whether it is there and how many there are.
    /// </summary>
    public static int TargetWidth => LocalWidth + 3 * Colours + 2 * Shapes;

    private const int LocalWidth = 2 + 4 + 2;

    /// <summary>The probe's outputs per patch: colour logits (and none), shape logits (and none), box, centre, then the summary's.</summary>
    public static int ProbeWidth => Colours + 1 + Shapes + 1 + 4 + 2 + 3 * Colours + 2 * Shapes;

    /// <summary>The most objects of one shape a scene holds (counts are taught divided by it).</summary>
    public const int MaxCount = 4;

    /// <summary>
    /// The probe's targets for a scene on a <paramref name="grid"/>×<paramref name="grid"/> patch grid over the
    /// square the frame is centred in (the CLIP processor pads to square): [grid·grid, <see cref="TargetWidth"/>],
    /// boxes and centres normalised to that square as the [LOC] head predicts them.
    /// <para>
    /// Why a summary on every patch: u-LLaVA's video tokens begin with each frame's mean over its patches, and a moving
    /// object is a few patches of a hundred (its position reached those means at ~1 % of their size, too little for the
    /// LLM to compare frames by); with every patch carrying where each colour is, a frame's mean says it outright.
    /// </para>
    /// </summary>
    public static float[] Targets(Scene scene, int grid)
    {
        var (padX, padY, side) = SquareBoxMapping.SquareOffsets(scene.Height, scene.Width);
        double patch = (double)side / grid;
        var targets = new float[grid * grid * TargetWidth];
        var best = new double[grid * grid];
        var covered = new int[grid * grid];
        for (int p = 0; p < grid * grid; p++)
        {
            targets[p * TargetWidth] = Colours;
            targets[p * TargetWidth + 1] = Shapes;
        }
        var summary = new float[3 * Colours + 2 * Shapes];
        var colourPixels = new double[Colours];
        foreach (var o in scene.Objects)
        {
            Array.Clear(covered);
            int colour = IndexOf(SceneColour.Palette, o.Colour);
            int x0 = (int)o.Box.XMin, x1 = (int)o.Box.XMax, y0 = (int)o.Box.YMin, y1 = (int)o.Box.YMax;
            for (int y = y0; y < y1; y++)
            {
                int row = Math.Min(grid - 1, (int)((y + padY) / patch));
                for (int x = x0; x < x1; x++)
                {
                    if (o.Mask[y * scene.Width + x] == 0) continue;
                    covered[row * grid + Math.Min(grid - 1, (int)((x + padX) / patch))]++;
                    colourPixels[colour]++;
                    summary[3 * colour + 1] += (float)((x + 0.5 + padX) / side);
                    summary[3 * colour + 2] += (float)((y + 0.5 + padY) / side);
                }
            }
            summary[3 * Colours + 2 * (int)o.Shape] = 1;
            summary[3 * Colours + 2 * (int)o.Shape + 1] += 1f / MaxCount;
            for (int p = 0; p < covered.Length; p++)
            {
                double share = covered[p] / (patch * patch);
                if (share < CoverageThreshold || share <= best[p]) continue;
                best[p] = share;
                int at = p * TargetWidth;
                targets[at] = colour;
                targets[at + 1] = (int)o.Shape;
                targets[at + 2] = (o.Box.XMin + padX) / side;
                targets[at + 3] = (o.Box.YMin + padY) / side;
                targets[at + 4] = (o.Box.XMax + padX) / side;
                targets[at + 5] = (o.Box.YMax + padY) / side;
            }
        }
        for (int c = 0; c < Colours; c++)
        {
            if (colourPixels[c] == 0) continue;
            summary[3 * c] = 1;
            summary[3 * c + 1] /= (float)colourPixels[c];
            summary[3 * c + 2] /= (float)colourPixels[c];
        }
        for (int p = 0; p < grid * grid; p++)
        {
            targets[p * TargetWidth + 6] = (float)((p % grid + 0.5) / grid);
            targets[p * TargetWidth + 7] = (float)((p / grid + 0.5) / grid);
            summary.CopyTo(targets, p * TargetWidth + LocalWidth);
        }
        return targets;
    }

    private static int IndexOf(IReadOnlyList<SceneColour> palette, SceneColour colour)
    {
        for (int i = 0; i < palette.Count; i++)
            if (palette[i] == colour) return i;
        throw new ArgumentException($"colour {colour.Name} is not in the palette", nameof(colour));
    }

    /// <summary>
    /// The probe's loss on its outputs [B, N, <see cref="ProbeWidth"/>] against <see cref="Targets"/> [B, N,
    /// <see cref="TargetWidth"/>]: colour and shape cross-entropies over every patch plus the same over the patches an
    /// object covers (about one patch in six: alone, the all-patch mean is mostly "none" and shapes were barely learnt),
    /// L1 on the covering object's box there and on every patch's centre; for the summary, colour and shape presence
    /// (BCE), each present colour's centre and each shape's count (L1).
    /// </summary>
    public static Tensor Loss(Tensor predicted, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var colourLogits = predicted[.., .., ..(Colours + 1)].reshape(-1, Colours + 1);
        var shapeLogits = predicted[.., .., (Colours + 1)..(Colours + Shapes + 2)].reshape(-1, Shapes + 1);
        var colour = targets[.., .., 0].reshape(-1).to_type(ScalarType.Int64);
        var shape = targets[.., .., 1].reshape(-1).to_type(ScalarType.Int64);
        var present = colour.ne(Colours).to_type(ScalarType.Float32);
        var classes = nn.functional.cross_entropy(colourLogits, colour, reduction: nn.Reduction.None)
                    + nn.functional.cross_entropy(shapeLogits, shape, reduction: nn.Reduction.None);
        var covered = present.sum() + 1e-6;
        var classLoss = classes.mean() + (classes * present).sum() / covered;
        int boxAt = Colours + Shapes + 2;
        var boxError = (predicted[.., .., boxAt..(boxAt + 4)] - targets[.., .., 2..6]).abs().sum(-1).reshape(-1);
        var box = (boxError * present).sum() / (covered * 4);
        var centre = nn.functional.l1_loss(predicted[.., .., (boxAt + 4)..(boxAt + 6)], targets[.., .., 6..LocalWidth]);

        // The summary: [presence, x, y] per colour, then [presence, count / MaxCount] per shape, in targets and outputs alike.
        var predictedColours = predicted[.., .., (boxAt + 6)..(boxAt + 6 + 3 * Colours)].reshape(-1, Colours, 3);
        var targetColours = targets[.., .., LocalWidth..(LocalWidth + 3 * Colours)].reshape(-1, Colours, 3);
        var predictedShapes = predicted[.., .., (boxAt + 6 + 3 * Colours)..].reshape(-1, Shapes, 2);
        var targetShapes = targets[.., .., (LocalWidth + 3 * Colours)..].reshape(-1, Shapes, 2);
        var colourThere = targetColours[.., .., 0];
        var presence = nn.functional.binary_cross_entropy_with_logits(predictedColours[.., .., 0], colourThere)
                     + nn.functional.binary_cross_entropy_with_logits(predictedShapes[.., .., 0], targetShapes[.., .., 0]);
        var where = ((predictedColours[.., .., 1..] - targetColours[.., .., 1..]).abs().sum(-1) * colourThere).sum() / (colourThere.sum() * 2 + 1e-6);
        var count = nn.functional.l1_loss(predictedShapes[.., .., 1], targetShapes[.., .., 1]);
        return (classLoss + box + centre + presence + where + count).MoveToOuterDisposeScope();
    }

    /// <summary>Validation scenes <see cref="ObjectFeatureProbe"/> measures the finished tower on (about 1000 objects).</summary>
    public const int ProbeScenes = 400;

    /// <summary>Validation clips it measures the frame means' direction on.</summary>
    public const int ProbeClips = 200;

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
        if (options.InitFile is not null) ModuleWeights.Load(tower, options.InitFile, "a vision tower train-vision wrote");
        var vision = config.LlmConfig.VisionConfig;
        int grid = vision.ImageSize / vision.PatchSize;
        using var probe = nn.Linear(vision.HiddenSize, ProbeWidth);
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
        log(ObjectFeatureProbe.Measure(tower, processor, grid, ProbeScenes, ProbeClips, options.SceneWidth, options.SceneHeight).ToString());
        return losses;
    }

    /// <summary>Loads a pretrained tower into <paramref name="model"/> and freezes it (u-LLaVA trains with CLIP frozen).</summary>
    public static void LoadFrozen(string path, ULlavaForCausalLM model)
    {
        // A model folder (e.g. the bundled model): its tower, keyed llm.vision_encoder.* as the engine's checkpoints have it.
        if (Directory.Exists(path)) ModuleWeights.LoadFromModel(model.VisionTower, path, "llm.vision_encoder.");
        else ModuleWeights.Load(model.VisionTower, path, "the pretrained vision tower (train-vision writes it)");
        Freeze(model);
    }

    /// <summary>Stops gradients into the vision tower (its weights still travel in every checkpoint).</summary>
    public static void Freeze(ULlavaForCausalLM model)
    {
        foreach (var p in model.VisionTower.parameters()) p.requires_grad_(false);
    }

    public static bool IsFrozen(ULlavaForCausalLM model) => model.VisionTower.parameters().All(p => !p.requires_grad);
}
