using ULlava.Training.Training;
using static TorchSharp.torch;

namespace ULlava.Training.Tests;

public sealed class LossTests
{
    [Fact]
    public void CrossEntropyCountsOnlyAnswerTokens()
    {
        // Position 0 predicts label 1 with uniform logits (ln 2); position 1 predicts class 1 with p = 1/4 (ln 4).
        using var logits = tensor(new float[] { 0, 0, MathF.Log(3), 0, 5, -5 }, new long[] { 1, 3, 2 });
        using var both = tensor(new long[] { -100, 0, 1 }, new long[] { 1, 3 });
        using var last = tensor(new long[] { -100, -100, 1 }, new long[] { 1, 3 });
        Assert.Equal((Math.Log(2) + Math.Log(4)) / 2, ULlavaLosses.AnswerCrossEntropy(logits, both).item<float>(), 5);
        Assert.Equal(Math.Log(4), ULlavaLosses.AnswerCrossEntropy(logits, last).item<float>(), 5);
    }

    [Fact]
    public void MaskBceAndDice()
    {
        // p = sigmoid([0, ln 3]) = [0.5, 0.75], targets [1, 0].
        using var logits = tensor(new float[] { 0, MathF.Log(3) }, new long[] { 1, 1, 2 });
        using var targets = tensor(new float[] { 1, 0 }, new long[] { 1, 1, 2 });
        Assert.Equal((Math.Log(2) + Math.Log(4)) / 2, ULlavaLosses.MaskBce(logits, targets).item<float>(), 5);
        double numerator = 2 * 0.5 / 1000, denominator = 1.25 / 1000 + 1.0 / 1000;
        Assert.Equal(1 - (numerator + 1e-6) / (denominator + 1e-6), ULlavaLosses.MaskDice(logits, targets).item<float>(), 5);
        // A perfect, confident mask costs almost nothing.
        using var sure = tensor(new float[] { 20, -20 }, new long[] { 1, 1, 2 });
        Assert.InRange(ULlavaLosses.MaskDice(sure, targets).item<float>(), 0, 1e-3);
    }

    [Fact]
    public void IouHeadLearnsTheMasksRealIoU()
    {
        // Mask 1: logits > 0 on cells 0,1; target on 1,2: IoU 1/3. Mask 2: both empty: IoU 1.
        using var logits = tensor(new float[] { 3, 1, -2, -1, -5, -5, -5, -5 }, new long[] { 2, 2, 2 });
        using var targets = tensor(new float[] { 0.2f, 0.9f, 0.5f, 0, 0, 0, 0, 0.4f }, new long[] { 2, 2, 2 });
        using var predicted = tensor(new float[] { 0.5f, 0.5f }, requires_grad: true);
        var loss = ULlavaLosses.IouHeadMse(predicted, logits, targets);
        double a = 0.5 - 1.0 / 3, b = 0.5 - 1;
        Assert.Equal((a * a + b * b) / 2, loss.item<float>(), 5);
        loss.backward();
        Assert.Equal(a, predicted.grad!.data<float>()[0], 5); // d/dp of mean((p − iou)²) = (p − iou)
    }

    [Fact]
    public void HeadBoxProbeReadsWhatTheLayersCausalAttentionComputes()
    {
        manual_seed(3);
        var q = randn(2, 4, 12, 8);
        var k = randn(2, 4, 12, 8);
        var v = randn(2, 4, 12, 8);
        var full = nn.functional.scaled_dot_product_attention(q, k, v, ones(12, 12, dtype: ScalarType.Bool).tril());
        EncodedSample LocAt(int position) => new(null!, [], [], 0, 0, 0, position, null, 0, null);
        var ours = HeadBoxProbe.HeadOutputs(q, k, v, [(0, LocAt(7)), (1, LocAt(11)), (1, LocAt(0))]);
        var expected = stack(new[] { full[0, 0, 7], full[1, 0, 11], full[1, 0, 0] });
        Assert.True(ours.allclose(expected, 1e-5, 1e-5), $"largest difference {(ours - expected).abs().max().item<float>()}");
        // Another head at given positions (the motion probe's second head).
        var head1 = HeadBoxProbe.HeadOutputs(q, k, v, [(0, 3), (1, 9)], head: 1);
        var expected1 = stack(new[] { full[0, 1, 3], full[1, 1, 9] });
        Assert.True(head1.allclose(expected1, 1e-5, 1e-5), $"largest difference {(head1 - expected1).abs().max().item<float>()}");
    }

    [Fact]
    public void MotionProbeReadsTheHeadsDifferenceAtUnitRmsAndItsLogRms()
    {
        using var difference = tensor(new float[] { 0.03f, -0.04f, 0, 0, 3, 4, 0, 0 }, new long[] { 2, 4 });
        var input = MotionProbe.ProbeInput(difference);
        Assert.Equal(new long[] { 2, 5 }, input.shape);
        // RMS 0.025 and 2.5: each row at unit RMS, its size kept in the log of the RMS.
        Assert.True(input[0, ..4].allclose(tensor(new float[] { 1.2f, -1.6f, 0, 0 }), 1e-5, 1e-5));
        Assert.True(input[1, ..4].allclose(tensor(new float[] { 1.2f, 1.6f, 0, 0 }), 1e-5, 1e-5));
        Assert.Equal(Math.Log(0.025), input[0, 4].item<float>(), 4);
        Assert.Equal(Math.Log(2.5), input[1, 4].item<float>(), 4);
    }

    [Fact]
    public void FrameMotionProbeScoresTheUnitRmsDifferenceAlongUnitRows()
    {
        manual_seed(2);
        using var probe = new FrameMotionProbe(4);
        // Tokens at RMS 10 and 0.5 are the same token at unit RMS: no difference, so the logits are the bias alone.
        using var big = tensor(new float[] { 10, -10, 10, -10 }, new long[] { 1, 4 });
        using var small = tensor(new float[] { 0.5f, -0.5f, 0.5f, -0.5f }, new long[] { 1, 4 });
        Assert.True(FrameMotionProbe.UnitRms(big).allclose(FrameMotionProbe.UnitRms(small), 1e-5, 1e-5));
        var bias = probe.named_parameters().Single(p => p.name.EndsWith("bias")).parameter;
        var weight = probe.named_parameters().Single(p => p.name.EndsWith("weight")).parameter;
        using var zero = zeros(1, 4);
        Assert.True(probe.Logits(zero)[0].allclose(bias, 1e-6, 1e-6));
        // Along a class's row, a difference of length L scores LogitScale × L more than the bias, whatever the row's own length.
        using (no_grad()) weight.mul_(37);
        var row = weight[3] / weight[3].norm();
        var logits = probe.Logits((2.5 * row).unsqueeze(0));
        Assert.Equal(bias[3].item<float>() + FrameMotionProbe.LogitScale * 2.5, logits[0, 3].item<float>(), 4);
        // The loss falls only as the frames' tokens part along the answer's row: a token b, then b moved by e along a row
        // orthogonal to b (and to the other rows), at unit RMS each.
        using (no_grad())
            weight.copy_(tensor(new float[] { 0, 0, 1, -1, 0, 0, 2, -2, 0, 0, -1, 1, 1, -1, 0, 0, 0, 0, 3, -3 }, new long[] { 5, 4 }));
        using var b = tensor(new float[] { 5, 5, 5, 5 }, new long[] { 1, 4 });
        using var r = tensor(new float[] { 1, -1, 0, 0 }, new long[] { 1, 4 }) / Math.Sqrt(2);
        double LossAt(double e) => probe.Loss(b, b + e * r, [3]).item<float>();
        Assert.True(LossAt(3) < LossAt(1) && LossAt(1) < LossAt(0.1), $"losses {LossAt(0.1)} / {LossAt(1)} / {LossAt(3)} at e 0.1 / 1 / 3");
    }

    [Fact]
    public void BoxL1AndGIoU()
    {
        using var predicted = tensor(new float[] { 0.1f, 0.2f, 0.5f, 0.6f }, new long[] { 1, 4 });
        using var target = tensor(new float[] { 0.1f, 0.1f, 0.4f, 0.4f }, new long[] { 1, 4 });
        Assert.Equal(0.1, ULlavaLosses.BoxL1(predicted, target).item<float>(), 5);
        // [0,0,2,2] vs [1,1,3,3]: intersection 1, union 7, hull 9: GIoU = 1/7 − 2/9.
        using var a = tensor(new float[] { 0, 0, 2, 2 }, new long[] { 1, 4 });
        using var inverted = tensor(new float[] { 2, 2, 0, 0 }, new long[] { 1, 4 });
        using var b = tensor(new float[] { 1, 1, 3, 3 }, new long[] { 1, 4 });
        double expected = 1 - (1.0 / 7 - 2.0 / 9);
        Assert.Equal(expected, ULlavaLosses.GIoULoss(a, b).item<float>(), 5);
        Assert.Equal(expected, ULlavaLosses.GIoULoss(inverted, b).item<float>(), 5);
        Assert.Equal(0, ULlavaLosses.GIoULoss(b, b).item<float>(), 5);
    }

    [Fact]
    public void ScheduleWarmsUpThenDecays()
    {
        var s = new LearningRateSchedule(1e-3, 10, 110, 0.1);
        Assert.Equal(1e-4, s.At(0), 12);
        Assert.Equal(1e-3, s.At(9), 12);
        Assert.Equal(1e-3, s.At(10), 12);
        Assert.Equal(0.55e-3, s.At(60), 12);
        Assert.Equal(1e-4, s.At(110), 12);
    }
}
