using System.Globalization;
using System.Text;
using ULlava.Training.Samples;

namespace ULlava.Training.Evaluation;

/// <summary>
/// The issue's metrics on a split: mean per-sample mask IoU of referring segmentation, box Acc@0.5 (IoU ≥ 0.5 of the
/// [LOC] box) over segmentation and grounding samples, exact match per text task, video direction accuracy.
/// </summary>
public sealed record EvalReport(
    double MeanIoU,
    double BoxAccuracy50,
    IReadOnlyDictionary<TaskKind, double> ExactMatch,
    double VideoDirectionAccuracy,
    IReadOnlyDictionary<TaskKind, int> Counts)
{
    public const double MinMeanIoU = 0.85, MinBoxAccuracy = 0.90, MinExactMatch = 0.90, MinVideoAccuracy = 0.85;

    /// <summary>Whether every metric meets the issue's bar.</summary>
    public bool MeetsTargets =>
        MeanIoU >= MinMeanIoU && BoxAccuracy50 >= MinBoxAccuracy && VideoDirectionAccuracy >= MinVideoAccuracy &&
        ExactMatch.Where(kv => kv.Key != TaskKind.VideoDirection).All(kv => kv.Value >= MinExactMatch);

    /// <summary>Per task, the answer loss with its own image and with another sample's (see <see cref="ImageRelianceProbe"/>).</summary>
    public IReadOnlyList<ImageRelianceProbe.Result> ImageReliance { get; init; } = [];

    public string Format()
    {
        var sb = new StringBuilder();
        void Line(string name, double value, double target, string n) =>
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{name,-28} {value,6:F3}  (target ≥ {target:F2}, n={n}) {(value >= target ? "ok" : "MISS")}"));
        int Count(params TaskKind[] kinds) => kinds.Sum(k => Counts.GetValueOrDefault(k));
        Line("mIoU (segmentation)", MeanIoU, MinMeanIoU, Count(TaskKind.ReferringSegmentation).ToString(CultureInfo.InvariantCulture));
        Line("box Acc@0.5", BoxAccuracy50, MinBoxAccuracy, Count(TaskKind.ReferringSegmentation, TaskKind.Grounding).ToString(CultureInfo.InvariantCulture));
        foreach (var (kind, value) in ExactMatch.Where(kv => kv.Key != TaskKind.VideoDirection))
            Line($"exact match ({kind})", value, MinExactMatch, Counts.GetValueOrDefault(kind).ToString(CultureInfo.InvariantCulture));
        Line("video direction accuracy", VideoDirectionAccuracy, MinVideoAccuracy, Count(TaskKind.VideoDirection).ToString(CultureInfo.InvariantCulture));
        foreach (var r in ImageReliance)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{"image reliance (" + r.Task + ")",-28} answer loss {r.OwnImageLoss:F3} own image, {r.OtherImageLoss:F3} another's (x{r.Ratio:F2}, n={r.Samples})"));
        sb.Append(MeetsTargets ? "all targets met" : "targets missed");
        return sb.ToString();
    }
}
