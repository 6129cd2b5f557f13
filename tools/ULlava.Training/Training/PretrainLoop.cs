using System.Diagnostics;
using ULlava.Training.Scenes;
using static TorchSharp.torch;

namespace ULlava.Training.Training;

/// <summary>
/// The step loop both pretraining stages run: each step's samples made from their own seeds (so deterministic) on every
/// core, one step ahead of the model; progress lines; --max-seconds.
/// </summary>
public static class PretrainLoop
{
    /// <summary>
    /// Runs <paramref name="trainStep"/> (the batch, the step; returns the step's loss) over the steps and returns every
    /// step's loss; each sample is made by <paramref name="makeSample"/> (a generator of this thread, the sample's seed)
    /// and disposed after its step.
    /// </summary>
    public static IReadOnlyList<double> Run<TSample>(PretrainOptions options, Action<string> log,
        Func<SceneGenerator, ulong, TSample> makeSample, Func<TSample[], int, double> trainStep)
        where TSample : IDisposable
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        int workers = options.DataWorkers > 0 ? options.DataWorkers : Environment.ProcessorCount;
        using var generators = new ThreadLocal<SceneGenerator>(() => new SceneGenerator(options.SceneWidth, options.SceneHeight));
        TSample[] Make(int step)
        {
            var samples = new TSample[options.BatchSize];
            Parallel.For(0, options.BatchSize, new ParallelOptions { MaxDegreeOfParallelism = workers }, b =>
                samples[b] = makeSample(generators.Value!, Trainer.TrainingSplitSeed(options.Seed, (ulong)step * (ulong)options.BatchSize + (ulong)b)));
            return samples;
        }

        var losses = new List<double>();
        var started = Stopwatch.GetTimestamp();
        var windowStart = started;
        int windowSteps = 0;
        Task<TSample[]>? next = Task.Run(() => Make(0));
        try
        {
            for (int step = 0; step < options.Steps; step++)
            {
                var batch = next!.GetAwaiter().GetResult();
                int following = step + 1;
                next = following < options.Steps ? Task.Run(() => Make(following)) : null;
                try
                {
                    using var scope = NewDisposeScope();
                    losses.Add(trainStep(batch, step));
                }
                finally
                {
                    foreach (var s in batch) s.Dispose();
                }
                windowSteps++;
                int done = step + 1;
                if (done % Math.Max(1, options.LogEvery) == 0 || done == options.Steps)
                {
                    double seconds = Stopwatch.GetElapsedTime(windowStart).TotalSeconds;
                    log(FormattableString.Invariant($"step {done}/{options.Steps} loss {losses.TakeLast(windowSteps).Average():F4} | {windowSteps / seconds:F2} it/s"));
                    windowStart = Stopwatch.GetTimestamp();
                    windowSteps = 0;
                }
                if (options.MaxSeconds > 0 && done < options.Steps && Stopwatch.GetElapsedTime(started).TotalSeconds >= options.MaxSeconds)
                {
                    log(FormattableString.Invariant($"--max-seconds {options.MaxSeconds}: stopping after step {done}"));
                    break;
                }
            }
        }
        finally
        {
            // The batch made ahead for a step that will not run (a stop or a failure): wait for it and free it.
            if (next is not null)
            {
                try
                {
                    foreach (var s in next.GetAwaiter().GetResult()) s.Dispose();
                }
                catch (Exception)
                {
                    // It failed to render: nothing to free, and the exception that ended the loop (if any) is the one to report.
                }
            }
        }
        return losses;
    }
}
