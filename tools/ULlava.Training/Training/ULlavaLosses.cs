using TorchSharp;
using static TorchSharp.torch;

namespace ULlava.Training.Training;

/// <summary>
/// u-LLaVA's training losses (its LISA-derived heads): next-token cross-entropy on answer tokens only, sigmoid BCE and
/// dice on mask logits, L1 and generalised IoU on boxes.
/// </summary>
public static class ULlavaLosses
{
    /// <summary>Label of a token that is not predicted (prompt, image placeholders, padding), as in Hugging Face.</summary>
    public const long IgnoreIndex = -100;

    /// <summary>
    /// Mean cross-entropy of <paramref name="logits"/> [B,T,V] predicting <paramref name="labels"/> [B,T] shifted by one
    /// (position t predicts label t+1); positions labelled <see cref="IgnoreIndex"/> are left out.
    /// </summary>
    public static Tensor AnswerCrossEntropy(Tensor logits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        long v = logits.shape[2];
        var predicted = logits[.., ..^1, ..].reshape(-1, v).to_type(ScalarType.Float32);
        var target = labels[.., 1..].reshape(-1).to_type(ScalarType.Int64);
        return nn.functional.cross_entropy(predicted, target, ignore_index: IgnoreIndex).MoveToOuterDisposeScope();
    }

    /// <summary>Sigmoid BCE per mask (mean over its pixels), averaged over masks: logits and targets [N,H,W], targets in [0,1].</summary>
    public static Tensor MaskBce(Tensor logits, Tensor targets)
    {
        using var scope = NewDisposeScope();
        long n = logits.shape[0];
        var perPixel = nn.functional.binary_cross_entropy_with_logits(logits.reshape(n, -1), targets.reshape(n, -1).to_type(logits.dtype), reduction: nn.Reduction.None);
        return perPixel.mean(new long[] { 1 }).mean().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// LISA's dice loss: <c>1 − (2·Σ(p·t)/s + ε) / (Σp/s + Σt/s + ε)</c> per mask with p = sigmoid(logits),
    /// s = 1000, ε = 1e-6, averaged over masks.
    /// </summary>
    public static Tensor MaskDice(Tensor logits, Tensor targets, double scale = 1000, double eps = 1e-6)
    {
        using var scope = NewDisposeScope();
        long n = logits.shape[0];
        var p = logits.reshape(n, -1).sigmoid();
        var t = targets.reshape(n, -1).to_type(p.dtype);
        var numerator = 2 * (p / scale * t).sum(new long[] { 1 });
        var denominator = (p / scale).sum(new long[] { 1 }) + (t / scale).sum(new long[] { 1 });
        var loss = 1 - (numerator + eps) / (denominator + eps);
        return loss.mean().MoveToOuterDisposeScope();
    }

    /// <summary>Mean absolute error over every coordinate of [N,4] boxes.</summary>
    public static Tensor BoxL1(Tensor predicted, Tensor target)
    {
        using var scope = NewDisposeScope();
        return (predicted - target.to_type(predicted.dtype)).abs().mean().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Mean of 1 − GIoU over [N,4] xyxy boxes. Predicted corners are sorted first, so an inverted box early in training
    /// still has a well-defined (positive) area instead of a negative one.
    /// </summary>
    public static Tensor GIoULoss(Tensor predicted, Tensor target)
    {
        using var scope = NewDisposeScope();
        target = target.to_type(predicted.dtype);
        var (px0, px1) = (minimum(predicted[.., 0], predicted[.., 2]), maximum(predicted[.., 0], predicted[.., 2]));
        var (py0, py1) = (minimum(predicted[.., 1], predicted[.., 3]), maximum(predicted[.., 1], predicted[.., 3]));
        var (tx0, ty0, tx1, ty1) = (target[.., 0], target[.., 1], target[.., 2], target[.., 3]);
        var areaP = (px1 - px0) * (py1 - py0);
        var areaT = (tx1 - tx0) * (ty1 - ty0);
        var iw = (minimum(px1, tx1) - maximum(px0, tx0)).clamp_min(0);
        var ih = (minimum(py1, ty1) - maximum(py0, ty0)).clamp_min(0);
        var inter = iw * ih;
        var union = areaP + areaT - inter;
        var iou = inter / (union + 1e-7);
        var hull = (maximum(px1, tx1) - minimum(px0, tx0)) * (maximum(py1, ty1) - minimum(py0, ty0));
        var giou = iou - (hull - union) / (hull + 1e-7);
        return (1 - giou).mean().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// SAM's IoU-head loss: MSE between the predicted scores [N] and the IoU each mask really has with its target (logit
    /// &gt; 0 against target ≥ 0.5, at the logits' resolution; 1 when both are empty), the real IoU taken as a constant.
    /// </summary>
    public static Tensor IouHeadMse(Tensor predicted, Tensor maskLogits, Tensor targets)
    {
        using var scope = NewDisposeScope();
        long n = maskLogits.shape[0];
        Tensor actual;
        using (no_grad())
        {
            var p = maskLogits.reshape(n, -1) > 0;
            var t = targets.reshape(n, -1) >= 0.5;
            var inter = (p & t).sum(new long[] { 1 }).to_type(ScalarType.Float32);
            var union = (p | t).sum(new long[] { 1 }).to_type(ScalarType.Float32);
            actual = where(union > 0, inter / union.clamp_min(1), ones_like(union));
        }
        return nn.functional.mse_loss(predicted.to_type(ScalarType.Float32), actual).MoveToOuterDisposeScope();
    }
}
