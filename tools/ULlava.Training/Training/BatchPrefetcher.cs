using System.Collections.Concurrent;
using ULlava.Perception.Model.Clip;
using ULlava.Perception.Model.Config;
using ULlava.Training.Samples;

namespace ULlava.Training.Training;

/// <summary>
/// Makes the training batches of steps [first, end) ahead of the training thread: the rows of a batch (a scene and its
/// questions, <see cref="PackedRow"/>) are generated, encoded and preprocessed in parallel (scene rendering is ~35 ms a sample, the model step on a GPU a few ms a sample),
/// up to <c>depth</c> batches ahead. Deterministic: a sample depends only on its seed, and batches come in step order.
/// One consumer; <see cref="Dispose"/> stops the producer and frees batches nobody took.
/// </summary>
public sealed class BatchPrefetcher : IDisposable
{
    private readonly BlockingCollection<TrainingBatch> ready;
    private readonly CancellationTokenSource stop = new();
    private readonly Thread producer;
    private readonly ThreadLocal<SampleFactory> factories;
    private readonly ThreadLocal<SampleEncoder> encoders;
    private Exception? failure;

    /// <param name="seedsOfStep">the row (scene) seeds of a step, in batch order</param>
    /// <param name="newFactory">a sample factory for one worker thread</param>
    /// <param name="newEncoder">a sample encoder for one worker thread (tokenizers are not shared across threads)</param>
    public BatchPrefetcher(int first, int end, Func<int, IReadOnlyList<ulong>> seedsOfStep, Func<SampleFactory> newFactory, Func<SampleEncoder> newEncoder,
                           ClipImageProcessor processor, SamConfig sam, int workers, int depth = 2, int questionsPerRow = 1, bool askStill = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(questionsPerRow, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        factories = new ThreadLocal<SampleFactory>(newFactory);
        encoders = new ThreadLocal<SampleEncoder>(newEncoder);
        ready = new BlockingCollection<TrainingBatch>(depth);
        producer = new Thread(() => Produce(first, end, seedsOfStep, processor, sam, workers, questionsPerRow, askStill)) { IsBackground = true, Name = "batch prefetcher" };
        producer.Start();
    }

    /// <summary>The next step's batch (the caller disposes it); blocks until it is made, rethrows the producer's failure.</summary>
    public TrainingBatch Next()
    {
        try
        {
            return ready.Take(stop.Token);
        }
        catch (InvalidOperationException) when (failure is not null)
        {
            throw new InvalidOperationException($"making a training batch failed: {failure.Message}", failure);
        }
    }

    private void Produce(int first, int end, Func<int, IReadOnlyList<ulong>> seedsOfStep, ClipImageProcessor processor, SamConfig sam, int workers, int questionsPerRow, bool askStill)
    {
        try
        {
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = stop.Token };
            for (int step = first; step < end; step++)
            {
                var seeds = seedsOfStep(step);
                var rows = new PackedRow[seeds.Count];
                var inputs = new (TorchSharp.torch.Tensor Pixels, TorchSharp.torch.Tensor? SamInput)[seeds.Count];
                Parallel.For(0, seeds.Count, parallel, i =>
                {
                    var (factory, encoder) = (factories.Value!, encoders.Value!);
                    rows[i] = questionsPerRow == 1 ? TrainingBatch.Lone(encoder.Encode(factory.Create(seeds[i])))
                                                   : encoder.EncodeRow(factory.CreateGroup(seeds[i], questionsPerRow, askStill));
                    inputs[i] = TrainingBatch.PrepareInputs(rows[i], processor, sam);
                });
                var batch = TrainingBatch.Assemble(rows, inputs);
                try
                {
                    ready.Add(batch, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    batch.Dispose();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            ready.CompleteAdding();
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        producer.Join();
        while (ready.TryTake(out var batch)) batch.Dispose();
        ready.Dispose();
        factories.Dispose();
        encoders.Dispose();
        stop.Dispose();
    }
}
