using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using ULlava.Training.Samples;
using ULlava.Training.Scenes;
using static TorchSharp.torch;

namespace ULlava.Training.Training;

/// <summary>
/// Training-only (--head-answer-weight X): a linear classifier on what head 0 of each guided layer reads at the position
/// that predicts an attribute or count answer's first token (its attention output before o_proj), cross-entropy against
/// the answer (a colour, a shape or a count); thrown away with the run. Why: <see cref="AttentionGuide"/> already made
/// that head look at the object an attribute question asks about, and the answers still came from the question alone
/// (attribute exact match 0.17, image reliance ×0.93; count at the majority answer, ×1.0) — the same gap
/// <see cref="HeadBoxProbe"/> closed for boxes: the values the head reads were never asked to keep what the answer needs.
/// A count has no single object: its head looks at every object of the asked shape, and at none for "0."; how much of its
/// attention the image gets then says how many there are.
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
    /// Cross-entropy of the probe of one guided layer (<paramref name="guided"/>: 0 for the first) on head 0's attention
    /// output at each sample's <see cref="EncodedSample.GuidePosition"/>, from the layer's rotated queries, keys and values
    /// [B, heads, T, D], against the samples' <see cref="EncodedSample.AnswerClass"/>. Samples without one are left out.
    /// </summary>
    public Tensor Loss(int guided, Tensor q, Tensor k, Tensor v, IReadOnlyList<(int Row, EncodedSample Sample)> samples)
    {
        using var scope = NewDisposeScope();
        var answered = samples.Where(x => x.Sample.AnswerClass >= 0).ToList();
        if (answered.Count == 0) return zeros(Array.Empty<long>(), device: q.device).MoveToOuterDisposeScope();
        var heads = HeadBoxProbe.HeadOutputs(q, k, v, answered.Select(x => (x.Row, x.Sample.GuidePosition)).ToList());
        var logits = probes[guided].forward(heads).to_type(ScalarType.Float32);
        var target = tensor(answered.Select(x => (long)x.Sample.AnswerClass).ToArray()).to(q.device);
        return nn.functional.cross_entropy(logits, target).MoveToOuterDisposeScope();
    }

    public void Save(string dir) => ModuleWeights.Save(this, Path.Combine(dir, FileName));

    public void Load(string dir) =>
        ModuleWeights.Load(this, Path.Combine(dir, FileName), "the checkpoint's run trained a head answer probe, whose weights should be beside it");
}
