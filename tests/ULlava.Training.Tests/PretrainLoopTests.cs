using ULlava.Training.Training;

namespace ULlava.Training.Tests;

public sealed class PretrainLoopTests
{
    private sealed class Counted(ulong seed, List<ulong> disposed) : IDisposable
    {
        public ulong Seed { get; } = seed;
        public void Dispose()
        {
            lock (disposed) disposed.Add(Seed);
        }
    }

    [Fact]
    public void StepsSeeTheirOwnSeedsAndEverySampleMadeIsFreedAlsoWhenStoppedEarly()
    {
        var options = new PretrainOptions { OutputDir = "unused", Steps = 5, BatchSize = 3, Seed = 7, SceneWidth = 64, SceneHeight = 48, DataWorkers = 2, MaxSeconds = 1e-9 };
        var made = new List<ulong>();
        var disposed = new List<ulong>();
        var seen = new List<ulong[]>();
        var losses = PretrainLoop.Run(options, _ => { },
            (_, seed) =>
            {
                lock (made) made.Add(seed);
                return new Counted(seed, disposed);
            },
            (batch, step) =>
            {
                seen.Add(batch.Select(s => s.Seed).ToArray());
                return step;
            });
        // A limit already passed stops after the first step; the batch made ahead for step 1 is freed too.
        Assert.Single(losses);
        Assert.Equal(Enumerable.Range(0, 3).Select(b => Trainer.TrainingSplitSeed(7, (ulong)b)), seen[0]);
        Assert.Equal(made.Order(), disposed.Order());
        Assert.Equal(6, made.Count);

        var full = PretrainLoop.Run(options with { MaxSeconds = 0 }, _ => { }, (_, seed) => new Counted(seed, disposed), (_, step) => step);
        Assert.Equal(new double[] { 0, 1, 2, 3, 4 }, full);
    }
}
