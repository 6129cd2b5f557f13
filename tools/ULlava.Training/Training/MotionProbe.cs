using TorchSharp;
using TorchSharp.Modules;
using ULlava.Training.Samples;
using ULlava.Training.Scenes;
using static TorchSharp.torch;

namespace ULlava.Training.Training;

/// <summary>
/// Training-only (--motion-weight X), for video direction answers: in each of the LLM's last
/// <see cref="AttentionGuide.GuidedLayers"/> layers, at the position predicting the answer's first token, head 0 is taught
/// to look at the first frame's token and head 1 at the last one's (cross-entropy of each head's causal attention on that
/// token), and a linear classifier on the difference of the two heads' outputs (before o_proj) must name the direction;
/// thrown away with the run. Why: u-LLaVA's video tokens start with one token per frame, the mean of its patch features,
/// and the direction is in the difference of the first and the last (a ridge classifier on the 2026-11-26 bundled model's
/// last − first frame tokens of 400 validation clips: 0.78–0.80 on 200 held-out ones, chance 0.2) — a difference 1 % the
/// size of the tokens themselves, and no run's LLM learned to take it (video exact match 0.18–0.20, image reliance ×1.0).
/// Two heads reading one frame each are the difference one linear map away. The classifier reads that difference scaled
/// to unit RMS, plus the log of its RMS ("still" is a small difference): with the raw outputs of both heads, a run's
/// heads looked at the right frames (0.99 of their attention) and the classifier stayed at chance for 1500 steps — at
/// 1 % of the outputs' size, the difference needs weights a thousand times the initial ones, far more steps than AdamW's
/// fixed step size allows.
/// </summary>
public sealed class MotionProbe : nn.Module
{
    public const string FileName = "motion_probe.safetensors";

    public static readonly int Directions = Enum.GetValues<MotionDirection>().Length;

    private readonly ModuleList<Linear> probes = new();

    public MotionProbe(long headDim) : base("motion_probe")
    {
        for (int i = 0; i < AttentionGuide.GuidedLayers; i++) probes.Add(nn.Linear(headDim + 1, Directions));
        RegisterComponents();
    }

    /// <summary>The direction a video sample's answer names (-1 for every other task).</summary>
    public static int ClassOf(TrainingSample sample)
    {
        if (sample.Kind != TaskKind.VideoDirection) return -1;
        foreach (var direction in Enum.GetValues<MotionDirection>())
            if (SampleText.DirectionAnswer(direction) == sample.Answer) return (int)direction;
        throw new InvalidOperationException($"sample {sample.Seed}: video answer '{sample.Answer}' names no direction");
    }

    /// <summary>
    /// One guided layer's term (<paramref name="guided"/>: 0 for the first) from its rotated queries, keys and values
    /// [B, heads, T, D]: at each video sample's answer position, −log of head 0's attention on the first frame token and of
    /// head 1's on the last (mean over the two), plus the direction cross-entropy of the probe on the difference of the two
    /// heads' outputs (<see cref="ProbeInput"/>).
    /// Samples without a direction are left out.
    /// </summary>
    public Tensor Loss(int guided, Tensor q, Tensor k, Tensor v, IReadOnlyList<(int Row, EncodedSample Sample)> samples)
    {
        using var scope = NewDisposeScope();
        var videos = samples.Where(x => x.Sample.MotionClass >= 0).ToList();
        if (videos.Count == 0) return zeros(Array.Empty<long>(), device: q.device).MoveToOuterDisposeScope();
        var looks = new List<Tensor>();
        foreach (var (row, s) in videos)
        {
            int answerAt = s.PromptLength - 1;
            var frameTokens = s.PlaceholderPositions();
            foreach (var (head, frameToken) in new[] { (0, frameTokens[0]), (1, frameTokens[s.Sample.Frames.Count - 1]) })
                looks.Add(-HeadBoxProbe.CausalLogWeights(q, k, row, head, answerAt)[frameToken]);
        }
        var answers = videos.Select(x => (x.Row, x.Sample.PromptLength - 1)).ToList();
        var difference = HeadBoxProbe.HeadOutputs(q, k, v, answers, head: 1) - HeadBoxProbe.HeadOutputs(q, k, v, answers, head: 0);
        var logits = probes[guided].forward(ProbeInput(difference)).to_type(ScalarType.Float32);
        var directions = tensor(videos.Select(x => (long)x.Sample.MotionClass).ToArray()).to(q.device);
        return (stack(looks.ToArray()).mean() + nn.functional.cross_entropy(logits, directions)).MoveToOuterDisposeScope();
    }

    /// <summary>What the classifier reads of a difference [N, D]: the difference at unit RMS, then the log of its RMS.</summary>
    public static Tensor ProbeInput(Tensor difference)
    {
        using var scope = NewDisposeScope();
        var rms = difference.to_type(ScalarType.Float32).pow(2).mean(new long[] { 1 }, keepdim: true).add(1e-12).sqrt();
        return cat(new[] { difference / rms.to_type(difference.dtype), rms.log().to_type(difference.dtype) }, 1).MoveToOuterDisposeScope();
    }

    public void Save(string dir) => ModuleWeights.Save(this, Path.Combine(dir, FileName));

    public void Load(string dir) =>
        ModuleWeights.Load(this, Path.Combine(dir, FileName), "the checkpoint's run trained a motion probe, whose weights should be beside it");
}
