using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ULlava.Training.Training;

/// <summary>
/// Training-only (--head-box-weight X): a linear box regressor on what head 0 of each guided layer reads at the
/// [LOC]-predicting position (its attention output before o_proj), L1 against the referent's box; thrown away with the
/// run. Why: with <see cref="AttentionGuide"/> that head looks at the referent's patches (0.64–0.68 of its attention), the
/// patches carry their position (a ridge from one patch token to its grid position: L1 0.026), and still the [LOC] hidden
/// state held no box (det_decoder's output is one box for every sample): the values the head reads were never asked to
/// keep the position. On the guided checkpoint this probe's L1 fell from 0.29 to 0.11 in 175 steps (predicting the mean:
/// 0.16), so the value projection can carry the box; det_decoder then has it one linear map away.
/// </summary>
public sealed class HeadBoxProbe : nn.Module
{
    public const string FileName = "head_box_probe.safetensors";

    private readonly ModuleList<Linear> probes = new();

    public HeadBoxProbe(long headDim) : base("head_box_probe")
    {
        for (int i = 0; i < AttentionGuide.GuidedLayers; i++) probes.Add(nn.Linear(headDim, 4));
        RegisterComponents();
    }

    /// <summary>
    /// Head 0's attention output at each sample's [LOC]-predicting position in one guided layer (<paramref name="guided"/>:
    /// 0 for the first), from the layer's rotated queries, keys and values [B, heads, T, D]; L1 of the probe's box against
    /// the samples' boxes (mean over samples and coordinates). Samples without a box are left out.
    /// </summary>
    public Tensor Loss(int guided, Tensor q, Tensor k, Tensor v, IReadOnlyList<(int Row, EncodedSample Sample)> samples)
    {
        using var scope = NewDisposeScope();
        var withBoxes = samples.Where(x => x.Sample.BoxTarget is not null).ToList();
        if (withBoxes.Count == 0) return zeros(Array.Empty<long>(), device: q.device).MoveToOuterDisposeScope();
        var predicted = probes[guided].forward(HeadOutputs(q, k, v, withBoxes)).to_type(ScalarType.Float32);
        var target = tensor(withBoxes.SelectMany(x => x.Sample.BoxTarget!).ToArray(), new long[] { withBoxes.Count, 4 }).to(q.device);
        return (predicted - target).abs().mean().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Head 0's causal attention output [N, D] at each sample's [LOC]-predicting position, from a layer's rotated queries,
    /// keys and values [B, heads, T, D] (what the layer's attention computes there before o_proj).
    /// </summary>
    public static Tensor HeadOutputs(Tensor q, Tensor k, Tensor v, IReadOnlyList<(int Row, EncodedSample Sample)> samples) =>
        HeadOutputs(q, k, v, samples.Select(x => (x.Row, x.Sample.LocHiddenPosition)).ToList());

    /// <summary>The same for head <paramref name="head"/> at the given (batch row, position) pairs.</summary>
    public static Tensor HeadOutputs(Tensor q, Tensor k, Tensor v, IReadOnlyList<(int Row, int Position)> at, int head = 0)
    {
        using var scope = NewDisposeScope();
        var outputs = at.Select(x =>
        {
            var (row, position) = x;
            return CausalScores(q, k, row, head, position).softmax(0, ScalarType.Float32).to_type(v.dtype).matmul(v[row, head, ..(position + 1)]);
        }).ToArray();
        return stack(outputs).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Head <paramref name="head"/>'s scaled attention scores [position + 1] at one position of batch row
    /// <paramref name="row"/> (before the softmax), from a layer's rotated queries and keys [B, heads, T, D].
    /// </summary>
    public static Tensor CausalScores(Tensor q, Tensor k, int row, int head, int position) =>
        // Causal: the position reads itself and what came before it.
        k[row, head, ..(position + 1)].matmul(q[row, head, position]) * (1 / Math.Sqrt(q.shape[^1]));

    /// <summary>The log of those scores' softmax (float32): where the head looks.</summary>
    public static Tensor CausalLogWeights(Tensor q, Tensor k, int row, int head, int position) =>
        CausalScores(q, k, row, head, position).log_softmax(0, ScalarType.Float32);

    public void Save(string dir) => ModuleWeights.Save(this, Path.Combine(dir, FileName));

    public void Load(string dir) =>
        ModuleWeights.Load(this, Path.Combine(dir, FileName), "the checkpoint's run trained a head box probe, whose weights should be beside it");
}
