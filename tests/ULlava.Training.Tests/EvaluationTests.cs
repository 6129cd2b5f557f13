using ULlava.Training.Evaluation;
using ULlava.Training.Samples;

namespace ULlava.Training.Tests;

public sealed class EvaluationTests
{
    [Fact]
    public void MaskIoUCountsOverlapOverUnion()
    {
        Assert.Equal(1.0 / 3, Evaluator.MaskIoU(new byte[] { 1, 1, 0, 0 }, new byte[] { 0, 1, 1, 0 }), 10);
        Assert.Equal(1.0, Evaluator.MaskIoU(new byte[] { 0, 0 }, new byte[] { 0, 0 }));
        Assert.Equal(0.0, Evaluator.MaskIoU(new byte[] { 1, 0 }, new byte[] { 0, 1 }));
    }

    [Fact]
    public void TargetsAreTheIssues()
    {
        var exact = new Dictionary<TaskKind, double> { [TaskKind.Caption] = 0.95, [TaskKind.Count] = 0.91, [TaskKind.Attribute] = 0.9, [TaskKind.VideoDirection] = 0.86 };
        var counts = new Dictionary<TaskKind, int> { [TaskKind.ReferringSegmentation] = 10 };
        Assert.True(new EvalReport(0.86, 0.91, exact, 0.86, counts).MeetsTargets);
        Assert.False(new EvalReport(0.84, 0.91, exact, 0.86, counts).MeetsTargets);
        Assert.False(new EvalReport(0.86, 0.89, exact, 0.86, counts).MeetsTargets);
        Assert.False(new EvalReport(0.86, 0.91, exact, 0.84, counts).MeetsTargets);
        Assert.False(new EvalReport(0.86, 0.91, new Dictionary<TaskKind, double>(exact) { [TaskKind.Count] = 0.89 }, 0.86, counts).MeetsTargets);
    }
}
