using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using ULlava.Training.Samples;
using ULlava.Training.Scenes;
using static TorchSharp.torch;

namespace ULlava.Training.Training;

/// <summary>
/// Training-only (--head-answer-weight X), for attribute and count answers, at the position that predicts the answer's
/// first token in each of the LLM's last <see cref="AttentionGuide.GuidedLayers"/> layers: head 0 is taught where to look
/// (−log of its causal attention's mass on the asked object's patches; for a count on every object of the asked shape,
/// and on the first token, the attention sink, when there is none), and a linear classifier on what it reads there (its
/// attention output before o_proj) must name the answer (a colour, a shape or a count); the classifier is thrown away
/// with the run. Why: <see cref="AttentionGuide"/> shapes that head's attention only within the image, and the answers
/// still came from the question alone (attribute exact match 0.17, image reliance ×0.93; count at the majority answer,
/// ×1.0). Measured on a run with the guidance and this classifier but without the look term (step 1500, 64 validation
/// samples each): at an attribute answer head 0 put 0.007 of its attention on the image at all (the classifier: 0.09),
/// at a count answer 0.98 on the image whether or not the shape was there (the classifier: 0.45, the majority answer) —
/// the same gap <see cref="HeadBoxProbe"/> closed for boxes. With the sink, how much of the head's attention the image
/// gets says whether the shape is there.
/// </summary>
public sealed class HeadAnswerProbe : nn.Module
{
    public const string FileName = "head_answer_probe.safetensors";

    /// <summary>Counts above this share the last class (a scene has at most 4 objects).</summary>
    public const int MaxCount = 4;

    public static readonly int Colours = SceneColour.Palette.Count;
    public static readonly int Shapes = Enum.GetValues<ShapeKind>().Length;

    /// <summary>Colours, then shapes, then counts 0..<see cref="MaxCount"/>.</summary>
    public static readonly int Classes = Colours + Shapes + MaxCount + 1;

    private readonly ModuleList<Linear> probes = new();

    public HeadAnswerProbe(long headDim) : base("head_answer_probe")
    {
        for (int i = 0; i < AttentionGuide.GuidedLayers; i++) probes.Add(nn.Linear(headDim, Classes));
        RegisterComponents();
    }

    /// <summary>
    /// The class of an attribute or count sample's answer ("Blue." a colour, "Circle." a shape, "2." a count); -1 for
    /// every other task.
    /// </summary>
    public static int ClassOf(TrainingSample sample)
    {
        string answer = sample.Answer.TrimEnd('.');
        switch (sample.Kind)
        {
            case TaskKind.Count:
                return int.TryParse(answer, NumberStyles.None, CultureInfo.InvariantCulture, out int count)
                    ? Colours + Shapes + Math.Min(count, MaxCount)
                    : throw new InvalidOperationException($"sample {sample.Seed}: count answer '{sample.Answer}' is not a number");
            case TaskKind.Attribute:
                for (int c = 0; c < Colours; c++)
                    if (SceneColour.Palette[c].Name.Equals(answer, StringComparison.OrdinalIgnoreCase)) return c;
                foreach (var shape in Enum.GetValues<ShapeKind>())
                    if (ShapeNames.Of(shape).Equals(answer, StringComparison.OrdinalIgnoreCase)) return Colours + (int)shape;
                throw new InvalidOperationException($"sample {sample.Seed}: attribute answer '{sample.Answer}' names no colour or shape");
            default:
                return -1;
        }
    }

    /// <summary>
    /// One guided layer's term (<paramref name="guided"/>: 0 for the first) from its rotated queries, keys and values
    /// [B, heads, T, D], at each sample's <see cref="EncodedSample.GuidePosition"/>: −log of head 0's causal attention mass
    /// on the sample's target (the placeholders of its <see cref="EncodedSample.ReferentPatches"/>, or the first token for
    /// none), plus the probe's cross-entropy against the samples' <see cref="EncodedSample.AnswerClass"/>, each averaged
    /// over the samples. Samples without a class are left out.
    /// </summary>
    public Tensor Loss(int guided, Tensor q, Tensor k, Tensor v, IReadOnlyList<(int Row, EncodedSample Sample)> samples)
    {
        using var scope = NewDisposeScope();
        var answered = samples.Where(x => x.Sample.AnswerClass >= 0).ToList();
        if (answered.Count == 0) return zeros(Array.Empty<long>(), device: q.device).MoveToOuterDisposeScope();
        var looks = answered.Select(x =>
        {
            var (row, s) = x;
            var logp = HeadBoxProbe.CausalLogWeights(q, k, row, head: 0, s.GuidePosition);
            long[] target = s.ReferentPatches is { } patches
                ? s.PlaceholderPositions().Where((_, i) => patches[i] > 0).ToArray()
                : new long[] { 0 };
            return -logp.index_select(0, tensor(target).to(q.device)).logsumexp(0);
        }).ToArray();
        var heads = HeadBoxProbe.HeadOutputs(q, k, v, answered.Select(x => (x.Row, x.Sample.GuidePosition)).ToList());
        var logits = probes[guided].forward(heads).to_type(ScalarType.Float32);
        var classes = tensor(answered.Select(x => (long)x.Sample.AnswerClass).ToArray()).to(q.device);
        return (stack(looks).mean() + nn.functional.cross_entropy(logits, classes)).MoveToOuterDisposeScope();
    }

    public void Save(string dir) => ModuleWeights.Save(this, Path.Combine(dir, FileName));

    public void Load(string dir) =>
        ModuleWeights.Load(this, Path.Combine(dir, FileName), "the checkpoint's run trained a head answer probe, whose weights should be beside it");
}
