using TorchSharp;
using TorchSharp.Modules;
using ULlava.Training.Samples;
using ULlava.Training.Scenes;
using static TorchSharp.torch;

namespace ULlava.Training.Training;

/// <summary>
/// Training-only (--frame-motion-weight X), for video direction answers: a linear classifier on the projected frame
/// tokens themselves (the projector's output, before the LLM) must name the way the clip's moving object goes, from the
/// last minus the first frame token, each first scaled to unit RMS as the LLM's input norm scales it; thrown away with
/// the run. Why: the tower's last − first frame means name the direction for 0.73 of held-out clips (a ridge
/// classifier), but after the projector that difference is ~1 % of a token (norm 0.5 of 42), and neither the answer's
/// cross-entropy nor <see cref="MotionProbe"/> on the heads that read those tokens ever left chance. The classifier's
/// rows are unit vectors and its logits a fixed multiple of their dot product with the difference, so it cannot grow
/// its own weights to read a small difference: its loss falls only as the projector makes the difference large next
/// to the tokens (a still clip is a small difference, which the bias names).
/// </summary>
public sealed class FrameMotionProbe : nn.Module
{
    public const string FileName = "frame_motion_probe.safetensors";

    /// <summary>Logits per unit of difference along a class's direction: at 2, a margin of 4 needs a difference of ~2 (a token is 16 at unit RMS, width 256).</summary>
    public const double LogitScale = 2.0;

    private readonly Linear classifier;

    public FrameMotionProbe(long hiddenSize) : base("frame_motion_probe")
    {
        classifier = nn.Linear(hiddenSize, MotionProbe.Directions);
        RegisterComponents();
    }

    /// <summary>The way a video sample's clip moves (its moving object's direction, whichever object is asked about); -1 for an image sample.</summary>
    public static int ClassOf(TrainingSample sample) => sample.ClipMotion is { } direction ? (int)direction : -1;

    /// <summary>
    /// The direction cross-entropy over clips, from each clip's first and last projected frame tokens [N, H] (in the
    /// projector's graph, so the gradient reaches it) and its <see cref="ClassOf"/>.
    /// </summary>
    public Tensor Loss(Tensor firstFrames, Tensor lastFrames, long[] classes)
    {
        using var scope = NewDisposeScope();
        var difference = UnitRms(lastFrames) - UnitRms(firstFrames);
        var logits = Logits(difference);
        var targets = tensor(classes).to(firstFrames.device);
        return nn.functional.cross_entropy(logits, targets).MoveToOuterDisposeScope();
    }

    /// <summary>Logits [N, 5] of differences [N, H]: <see cref="LogitScale"/> × the difference along each unit-length row, plus the bias.</summary>
    public Tensor Logits(Tensor difference)
    {
        using var scope = NewDisposeScope();
        var rows = nn.functional.normalize(classifier.weight!.to_type(ScalarType.Float32), p: 2, dim: 1);
        var logits = LogitScale * difference.to_type(ScalarType.Float32).matmul(rows.t()) + classifier.bias!.to_type(ScalarType.Float32);
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>Tokens [N, H] at unit RMS, as the LLM's RMSNorm (before its weight) sees them.</summary>
    public static Tensor UnitRms(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var x = tokens.to_type(ScalarType.Float32);
        return (x / x.pow(2).mean(new long[] { 1 }, keepdim: true).add(1e-6).sqrt()).MoveToOuterDisposeScope();
    }

    public void Save(string dir) => ModuleWeights.Save(this, Path.Combine(dir, FileName));

    public void Load(string dir) =>
        ModuleWeights.Load(this, Path.Combine(dir, FileName), "the checkpoint's run trained a frame motion probe, whose weights should be beside it");
}
