using ULlava.Perception.Model.Inference;
using ULlava.Training.Samples;
using ULlava.Training.Training;
using static TorchSharp.torch;

namespace ULlava.Training.Evaluation;

/// <summary>
/// Whether a model reads its image: the answer loss (the trainer's cross-entropy, teacher-forced) of a task's samples
/// with their own frames, against the same questions and answers shown another sample's frames. A model that answers
/// from the question alone scores the same on both (ratio ≈ 1); one that looks scores far worse on the wrong image.
/// Exact-match numbers cannot tell "ignores the image" from "reads it badly"; this can.
/// </summary>
public static class ImageRelianceProbe
{
    /// <summary>Answer losses of one task: own frames, another sample's frames.</summary>
    public sealed record Result(TaskKind Task, int Samples, double OwnImageLoss, double OtherImageLoss)
    {
        /// <summary>Other / own: about 1 when the image is ignored.</summary>
        public double Ratio => OtherImageLoss / Math.Max(1e-9, OwnImageLoss);
    }

    public static Result Measure(ULlavaEngine engine, IReadOnlyList<TrainingSample> samples)
    {
        if (samples.Count < 2) throw new ArgumentException("the probe needs at least two samples to swap their images", nameof(samples));
        var task = samples[0].Kind;
        if (samples.Any(s => s.Kind != task)) throw new ArgumentException("the probe's samples must share one task", nameof(samples));
        var encoder = new SampleEncoder(engine.Tokenizer, engine.Model.Config);
        // Each sample shown the next one's frames (a clip for a clip): same task, same question and answer.
        var swapped = samples.Select((s, i) => s with { Frames = samples[(i + 1) % samples.Count].Frames }).ToList();
        return new Result(task, samples.Count, AnswerLoss(engine, encoder, samples), AnswerLoss(engine, encoder, swapped));
    }

    private static double AnswerLoss(ULlavaEngine engine, SampleEncoder encoder, IReadOnlyList<TrainingSample> samples)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // Only the answer tokens count: the heads' targets (masks, boxes) are left out, so the probe is the same for every task.
        var batch = samples.Select(s => encoder.Encode(s with { Mask = null, Box = null })).ToList();
        var (_, parts) = BatchLoss.Compute(engine.Model, engine.Processor, batch, new LossWeights());
        return parts.Ce;
    }
}
