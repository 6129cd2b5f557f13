using TorchSharp;
using ULlava.Perception.Model;
using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Native;
using ULlava.Perception.Model.Sam;
using ULlava.Training.Scenes;
using static TorchSharp.torch;

namespace ULlava.Training.Training;

/// <summary>
/// Stage 1: pretrains SAM alone as a promptable segmenter, as u-LLaVA starts from Meta's pretrained SAM. Trained from
/// scratch only through [SEG] (stage 2), SAM reached a validation mIoU of ~0.37 and stayed there however long it ran
/// (10 masks a step, each asked through a 4-layer LLM). Here every sample is a mask, asked one of three ways: a
/// semantic prompt token (learned colour + shape embeddings, the kind of sparse token [SEG] becomes through
/// seg_projector; the tables are thrown away), the object's box, or a point inside it (the prompts the node's SAM
/// commands send). BCE + dice at the decoder's low resolution, as in stage 2. `train --sam` loads the result and
/// freezes all of SAM: with its decoder trainable, stage 2 unlearned the prompts within 1200 steps (measured on the
/// validation split: a stage-1 SAM gave mIoU 0.82 from the true box and 0.81 from a centre point; after stage 2 the
/// [SEG] token, the true box and the centre point all gave 0.45, the same mask whatever the prompt), and a decoder
/// that ignores its prompt sends no gradient back to [SEG]. Frozen, it makes seg_projector and the LLM learn to ask.
/// </summary>
public static class SamPretrainer
{
    /// <summary>Stage 1's defaults (3000 steps of 16).</summary>
    public static PretrainOptions Defaults { get; } = new() { Steps = 3000 };

    public static string Usage =>
        """
        train-sam [options]                  stage 1: pretrain SAM as a promptable segmenter on synthetic scenes
          --out DIR                          writes DIR/sam.safetensors (required), stage 2 takes it (frozen) as its sam FILE

        """ + PretrainOptions.Usage(Defaults);

    public const string OutputFile = "sam.safetensors";

    private static readonly int Colours = SceneColour.Palette.Count;
    private static readonly int Shapes = Enum.GetValues<ShapeKind>().Length;

    /// <summary>How a sample asks for its object; one kind per step so a batch has one prompt shape.</summary>
    public enum PromptKind { Semantic, Box, Point }

    /// <summary>Steps cycle semantic, semantic, box, point: [SEG]'s kind of prompt half the time.</summary>
    public static PromptKind KindOf(int step) => (step % 4) switch { 0 or 1 => PromptKind.Semantic, 2 => PromptKind.Box, _ => PromptKind.Point };

    /// <summary>One sample: SAM's input, the low-res mask target and the prompt's ingredients (in frame pixels).</summary>
    public sealed record Sample(Tensor Input, float[] MaskTarget, int Colour, int Shape, float[] Box, float[] Point, int Height, int Width)
        : IDisposable
    {
        public void Dispose() => Input.Dispose();
    }

    /// <summary>
    /// The sample of <paramref name="seed"/>: a scene, one of its objects and a point drawn uniformly among its visible
    /// pixels. The semantic target is every object with that colour and shape (the phrase names them all).
    /// </summary>
    public static Sample MakeSample(SceneGenerator generator, ulong seed, SamConfig sam)
    {
        var scene = generator.Generate(seed);
        var rng = DeterministicRandom.For(seed, 0x5A11);
        var target = rng.Pick(scene.Objects);
        var union = new byte[scene.Width * scene.Height];
        foreach (var o in scene.Objects.Where(o => o.Shape == target.Shape && o.Colour == target.Colour))
            for (int i = 0; i < union.Length; i++) union[i] |= o.Mask[i];
        int pick = rng.Next(0, target.VisiblePixels), at = -1;
        for (int i = 0; i < target.Mask.Length && pick >= 0; i++)
            if (target.Mask[i] != 0 && pick-- == 0) at = i;
        using var rgb = tensor(scene.Rgb, new long[] { scene.Height, scene.Width, 3 }, ScalarType.Byte);
        var b = target.Box;
        return new Sample(SamModel.Preprocess(rgb, sam).Input, SampleEncoder.MaskTarget(union, scene.Width, scene.Height, sam),
            IndexOf(target.Colour), (int)target.Shape, [(float)b.XMin, (float)b.YMin, (float)b.XMax, (float)b.YMax],
            [at % scene.Width, at / scene.Width], scene.Height, scene.Width);
    }

    private static int IndexOf(SceneColour colour)
    {
        for (int i = 0; i < Colours; i++)
            if (SceneColour.Palette[i] == colour) return i;
        throw new ArgumentException($"colour {colour.Name} is not in the palette", nameof(colour));
    }

    /// <summary>The prompt encoder's sparse and dense embeddings for a batch asked the <paramref name="kind"/> way.</summary>
    public static (Tensor Sparse, Tensor Dense) Prompts(SamModel sam, IReadOnlyList<Sample> batch, PromptKind kind,
        nn.Module<Tensor, Tensor> colourTable, nn.Module<Tensor, Tensor> shapeTable)
    {
        using var scope = NewDisposeScope();
        var device = sam.PromptEncoder.GetDensePe().device;
        int h = batch[0].Height, w = batch[0].Width, side = sam.Config.ImageSize;
        (Tensor, Tensor) result = kind switch
        {
            PromptKind.Semantic => sam.PromptEncoder.Forward(textEmbeds: (colourTable.forward(tensor(batch.Select(s => (long)s.Colour).ToArray(), device: device))
                + shapeTable.forward(tensor(batch.Select(s => (long)s.Shape).ToArray(), device: device))).unsqueeze(1)),
            PromptKind.Box => sam.PromptEncoder.Forward(boxes: SamTransforms.ApplyBoxes(
                tensor(batch.SelectMany(s => s.Box).ToArray(), new long[] { batch.Count, 4 }), h, w, side).to(device)),
            _ => sam.PromptEncoder.Forward(
                SamTransforms.ApplyCoords(tensor(batch.SelectMany(s => s.Point).ToArray(), new long[] { batch.Count, 1, 2 }), h, w, side).to(device),
                ones(batch.Count, 1, dtype: ScalarType.Int64, device: device)),
        };
        return (result.Item1.MoveToOuterDisposeScope(), result.Item2.MoveToOuterDisposeScope());
    }

    /// <summary>Trains and writes <c>OutputDir/sam.safetensors</c> (SAM's state dict, Meta's key names); returns every step's loss.</summary>
    public static IReadOnlyList<double> Run(PretrainOptions options, Action<string>? log = null)
    {
        log ??= Console.WriteLine;
        var device = TorchRuntime.Initialize(null, options.Device);
        if (options.Threads > 0) set_num_threads(options.Threads);
        var config = ModelSizes.ByName(options.ModelSize);
        manual_seed((long)(options.Seed & 0x7FFFFFFFFFFFFFFF));
        // SAM as the full model builds it (same config, same initialisation), plus the semantic prompt's two tables.
        using var model = new ULlavaForCausalLM(config);
        var sam = model.Sam;
        if (options.InitFile is not null) ModuleWeights.Load(sam, options.InitFile, "a SAM train-sam wrote");
        long promptDim = config.Sam.PromptEmbedDim;
        using var colourTable = nn.Embedding(Colours, promptDim);
        using var shapeTable = nn.Embedding(Shapes, promptDim);
        if (device.type != DeviceType.CPU)
        {
            sam.to(device);
            colourTable.to(device);
            shapeTable.to(device);
        }
        sam.train();
        var parameters = sam.named_parameters().Select(p => ("sam." + p.name, p.parameter))
            .Concat(colourTable.named_parameters().Select(p => ("colour." + p.name, p.parameter)))
            .Concat(shapeTable.named_parameters().Select(p => ("shape." + p.name, p.parameter))).ToList();
        using var optimizer = new AdamWOptimizer(parameters);
        var schedule = new LearningRateSchedule(options.LearningRate, options.WarmupSteps, options.Steps);
        int side = 4 * config.Sam.EmbeddingSide;
        log(FormattableString.Invariant($"pretraining SAM ({config.Sam.ImageSize} px, {config.Sam.EncoderDepth} blocks of {config.Sam.EncoderEmbedDim}) on {device}, {options.Steps} steps, batch {options.BatchSize}"));
        var losses = PretrainLoop.Run(options, log,
            (generator, seed) => MakeSample(generator, seed, config.Sam),
            (batch, step) =>
            {
                optimizer.ZeroGrad();
                var inputs = cat(batch.Select(s => s.Input).ToArray(), 0).to(device);
                var targets = tensor(batch.SelectMany(s => s.MaskTarget).ToArray(), new long[] { batch.Length, side, side }).to(device);
                var embeddings = sam.ImageEncoder.forward(inputs);
                var (sparse, dense) = Prompts(sam, batch, KindOf(step), colourTable, shapeTable);
                var (lowRes, _) = sam.MaskDecoder.Forward(embeddings, sam.PromptEncoder.GetDensePe(), sparse, dense, multimaskOutput: false);
                var logits = lowRes[.., 0];
                var loss = 2 * ULlavaLosses.MaskBce(logits, targets) + 0.5 * ULlavaLosses.MaskDice(logits, targets);
                loss.backward();
                optimizer.ClipGradientNorm(1.0);
                optimizer.Update(schedule.At(step));
                return loss.item<float>();
            });
        Directory.CreateDirectory(options.OutputDir);
        string path = Path.Combine(options.OutputDir, OutputFile);
        ModuleWeights.Save(sam, path);
        log($"saved {path} after {losses.Count} steps");
        return losses;
    }

    /// <summary>Loads a pretrained SAM into <paramref name="model"/> and freezes it (see the class summary for why all of it).</summary>
    public static void LoadFrozen(string path, ULlavaForCausalLM model)
    {
        // A model folder (e.g. the bundled model): its SAM, keyed visual_model.* as u-LLaVA's checkpoints have it.
        if (Directory.Exists(path)) ModuleWeights.LoadFromModel(model.Sam, path, "visual_model.");
        else
        {
            ModuleWeights.Load(model.Sam, path, "the pretrained SAM (train-sam writes it)");
        }
        Freeze(model);
    }

    /// <summary>Stops gradients into SAM's parameters (its weights still travel in every checkpoint; the mask decoder still passes gradients on to [SEG]).</summary>
    public static void Freeze(ULlavaForCausalLM model)
    {
        foreach (var p in model.Sam.parameters()) p.requires_grad_(false);
    }

    public static bool IsFrozen(ULlavaForCausalLM model) => model.Sam.parameters().All(p => !p.requires_grad);

    /// <summary>Whether a parameter name is one of SAM's mask-quality (IoU) head.</summary>
    public static bool IsIouHead(string name) => name.Contains(".iou_prediction_head.", StringComparison.Ordinal);

    /// <summary>
    /// Lets SAM's IoU head learn while the rest of a frozen SAM stays as it is (train --iou-head-weight): stage 1 trains
    /// masks only, so the score the node publishes beside each mask would otherwise be a random head's.
    /// </summary>
    public static void UnfreezeIouHead(ULlavaForCausalLM model)
    {
        foreach (var (name, p) in model.named_parameters())
            if (IsIouHead(name)) p.requires_grad_(true);
    }

    /// <summary>Whether SAM's image encoder needs no graph (frozen on its own or with the rest of SAM).</summary>
    public static bool IsEncoderFrozen(ULlavaForCausalLM model) => model.Sam.ImageEncoder.parameters().All(p => !p.requires_grad);
}
