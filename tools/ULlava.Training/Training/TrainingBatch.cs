using ULlava.Perception.Model.Clip;
using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Sam;
using static TorchSharp.torch;

namespace ULlava.Training.Training;

/// <summary>
/// One step's samples with their image inputs already made on the CPU: CLIP pixels of every frame (in sample order) and
/// SAM inputs of the samples that have a mask target. Made apart from the model so the pixel work can run in the
/// prefetcher's workers while the training thread runs the previous step. Owns its tensors.
/// </summary>
public sealed class TrainingBatch : IDisposable
{
    private TrainingBatch(IReadOnlyList<EncodedSample> samples, Tensor pixels, Tensor? samInputs)
    {
        Samples = samples;
        Pixels = pixels;
        SamInputs = samInputs;
    }

    public IReadOnlyList<EncodedSample> Samples { get; }

    /// <summary>[frames of all samples, 3, crop, crop] float32 on the CPU.</summary>
    public Tensor Pixels { get; }

    /// <summary>[samples with a mask target, 3, S, S] float32 on the CPU; null when no sample has one.</summary>
    public Tensor? SamInputs { get; }

    /// <summary>The image inputs of one sample (made on any thread): its frames' CLIP pixels and, with a mask target, SAM's input.</summary>
    public static (Tensor Pixels, Tensor? SamInput) PrepareInputs(EncodedSample sample, ClipImageProcessor processor, SamConfig sam)
    {
        var s = sample.Sample;
        var frames = s.Frames.Select(f => processor.Preprocess(f, s.Width, s.Height)).ToArray();
        var pixels = cat(frames, 0);
        foreach (var f in frames) f.Dispose();
        if (sample.MaskTarget is null) return (pixels, null);
        using var rgb = tensor(s.Frames[0], new long[] { s.Height, s.Width, 3 }, ScalarType.Byte);
        return (pixels, SamModel.Preprocess(rgb, sam).Input);
    }

    /// <summary>Assembles a batch from per-sample inputs (in sample order), disposing them.</summary>
    public static TrainingBatch Assemble(IReadOnlyList<EncodedSample> samples, IReadOnlyList<(Tensor Pixels, Tensor? SamInput)> inputs)
    {
        if (samples.Count == 0) throw new ArgumentException("empty batch", nameof(samples));
        var pixels = cat(inputs.Select(i => i.Pixels).ToArray(), 0);
        var sam = inputs.Where(i => i.SamInput is not null).Select(i => i.SamInput!).ToArray();
        var samInputs = sam.Length > 0 ? cat(sam, 0) : null;
        foreach (var (p, m) in inputs)
        {
            p.Dispose();
            m?.Dispose();
        }
        return new TrainingBatch(samples, pixels, samInputs);
    }

    /// <summary>A batch made on the calling thread (evaluation, tests).</summary>
    public static TrainingBatch Prepare(IReadOnlyList<EncodedSample> samples, ClipImageProcessor processor, SamConfig sam) =>
        Assemble(samples, samples.Select(s => PrepareInputs(s, processor, sam)).ToList());

    public void Dispose()
    {
        Pixels.Dispose();
        SamInputs?.Dispose();
    }
}
