namespace ULlava.Training.Training;

/// <summary>One step's losses as plain numbers (the weighted total and each unweighted component).</summary>
public sealed record LossBreakdown(double Total, double Ce, double Bce, double Dice, double L1, double GIoU, int MaskSamples, double? Referent = null, double? Locator = null, double? IouHead = null, double? Guide = null, double? HeadBox = null, double? HeadAnswer = null, double? Motion = null, double? FrameMotion = null)
{
    public override string ToString() =>
        FormattableString.Invariant($"loss {Total:F4} (ce {Ce:F4} bce {Bce:F4} dice {Dice:F4} l1 {L1:F4} giou {GIoU:F4}{(Referent is { } r ? $" referent {r:F4}" : "")}{(Locator is { } l ? $" locator {l:F4}" : "")}{(IouHead is { } q ? $" iou-head {q:F4}" : "")}{(Guide is { } g ? $" guide {g:F4}" : "")}{(HeadBox is { } hb ? $" head-box {hb:F4}" : "")}{(HeadAnswer is { } ha ? $" head-answer {ha:F4}" : "")}{(Motion is { } m ? $" motion {m:F4}" : "")}{(FrameMotion is { } fm ? $" frame-motion {fm:F4}" : "")}; {MaskSamples} masks)");
}
