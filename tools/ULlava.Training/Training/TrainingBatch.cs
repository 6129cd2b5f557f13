using ULlava.Perception.Model.Clip;
using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Sam;
using static TorchSharp.torch;

namespace ULlava.Training.Training;

/// <summary>
/// One step's rows (<see cref="PackedRow"/>: one scene or clip and its questions) with their image inputs already made on
/// the CPU: CLIP pixels of every row's frames (in row order) and SAM inputs of the rows with a mask question. Made apart
/// from the model so the pixel work can run in the prefetcher's workers while the training thread runs the previous
/// step. Owns its tensors.
/// </summary>
public sealed class TrainingBatch : IDisposable
{
    private TrainingBatch(IReadOnlyList<PackedRow> rows, Tensor pixels, Tensor? samInputs)
    {
        Rows = rows;
        Samples = rows.SelectMany(r => r.Questions).ToList();
        Pixels = pixels;
        SamInputs = samInputs;
    }

    public IReadOnlyList<PackedRow> Rows { get; }

    /// <summary>Every row's questions, in row order.</summary>
    public IReadOnlyList<EncodedSample> Samples { get; }

    /// <summary>[frames of all rows, 3, crop, crop] float32 on the CPU.</summary>
    public Tensor Pixels { get; }

    /// <summary>[rows with a mask question, 3, S, S] float32 on the CPU; null when no row has one.</summary>
    public Tensor? SamInputs { get; }

    /// <summary>Whether any row has a question with mask and box targets (and so a SAM input).</summary>
    public static bool NeedsSam(PackedRow row) => row.Questions.Any(q => q.MaskTarget is not null);

    /// <summary>The image inputs of one row (made on any thread): its frames' CLIP pixels and, with a mask question, SAM's input.</summary>
    public static (Tensor Pixels, Tensor? SamInput) PrepareInputs(PackedRow row, ClipImageProcessor processor, SamConfig sam)
    {
        var s = row.Questions[0].Sample;
        var frames = s.Frames.Select(f => processor.Preprocess(f, s.Width, s.Height)).ToArray();
        var pixels = cat(frames, 0);
        foreach (var f in frames) f.Dispose();
        if (!NeedsSam(row)) return (pixels, null);
        using var rgb = tensor(s.Frames[0], new long[] { s.Height, s.Width, 3 }, ScalarType.Byte);
        return (pixels, SamModel.Preprocess(rgb, sam).Input);
    }

    /// <summary>Assembles a batch from per-row inputs (in row order), disposing them.</summary>
    public static TrainingBatch Assemble(IReadOnlyList<PackedRow> rows, IReadOnlyList<(Tensor Pixels, Tensor? SamInput)> inputs)
    {
        if (rows.Count == 0) throw new ArgumentException("empty batch", nameof(rows));
        var pixels = cat(inputs.Select(i => i.Pixels).ToArray(), 0);
        var sam = inputs.Where(i => i.SamInput is not null).Select(i => i.SamInput!).ToArray();
        var samInputs = sam.Length > 0 ? cat(sam, 0) : null;
        foreach (var (p, m) in inputs)
        {
            p.Dispose();
            m?.Dispose();
        }
        return new TrainingBatch(rows, pixels, samInputs);
    }

    /// <summary>A batch of one question a row, made on the calling thread (evaluation, tests).</summary>
    public static TrainingBatch Prepare(IReadOnlyList<EncodedSample> samples, ClipImageProcessor processor, SamConfig sam) =>
        Prepare(samples.Select(Lone).ToList(), processor, sam);

    /// <summary>A row of one question: its own sequence (the prefix is then its whole prompt).</summary>
    public static PackedRow Lone(EncodedSample sample) => new([sample], sample.PromptLength);

    /// <summary>A batch of rows made on the calling thread.</summary>
    public static TrainingBatch Prepare(IReadOnlyList<PackedRow> rows, ClipImageProcessor processor, SamConfig sam) =>
        Assemble(rows, rows.Select(r => PrepareInputs(r, processor, sam)).ToList());

    public void Dispose()
    {
        Pixels.Dispose();
        SamInputs?.Dispose();
    }
}
