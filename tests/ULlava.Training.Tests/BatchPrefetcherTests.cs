using TorchSharp;
using ULlava.Perception.Model.Clip;
using ULlava.Perception.Model.Native;
using ULlava.Training.Samples;
using ULlava.Training.Training;

namespace ULlava.Training.Tests;

public sealed class BatchPrefetcherTests
{
    private static readonly ULlava.Perception.Model.Config.ULlavaConfig Config = ModelSizes.Tiny;

    private static IReadOnlyList<ulong> SeedsOf(int step) => Enumerable.Range(0, 5).Select(i => (ulong)(1000 + step * 5 + i)).ToList();

    private static BatchPrefetcher NewPrefetcher(int first, int end, Func<SampleFactory> factory, int workers = 3) =>
        new(first, end, SeedsOf, factory, () => new SampleEncoder(TokenizerFiles.Load(), Config),
            new ClipImageProcessor(ModelSizes.Processor(Config)), Config.Sam, workers);

    [Fact]
    public void BatchesComeInStepOrderEqualToOnesMadeOnOneThread()
    {
        TorchRuntime.Initialize(null, "cpu");
        var factory = new SampleFactory(160, 120);
        var encoder = new SampleEncoder(TokenizerFiles.Load(), Config);
        var processor = new ClipImageProcessor(ModelSizes.Processor(Config));
        using var prefetcher = NewPrefetcher(3, 6, () => new SampleFactory(160, 120));
        for (int step = 3; step < 6; step++)
        {
            using var made = prefetcher.Next();
            var samples = SeedsOf(step).Select(s => encoder.Encode(factory.Create(s))).ToList();
            using var expected = TrainingBatch.Prepare(samples, processor, Config.Sam);
            Assert.Equal(samples.Select(s => s.Sample.Seed), made.Samples.Select(s => s.Sample.Seed));
            Assert.Equal(samples.Select(s => s.Ids), made.Samples.Select(s => s.Ids));
            Assert.True(expected.Pixels.equal(made.Pixels).all().item<bool>(), $"step {step}: CLIP pixels differ");
            Assert.Equal(expected.SamInputs is null, made.SamInputs is null);
            if (expected.SamInputs is not null) Assert.True(expected.SamInputs.equal(made.SamInputs!).all().item<bool>(), $"step {step}: SAM inputs differ");
        }
    }

    [Fact]
    public void AFailureWhileMakingABatchReachesTheTrainerWithItsCause()
    {
        TorchRuntime.Initialize(null, "cpu");
        using var prefetcher = NewPrefetcher(0, 4, () => throw new InvalidDataException("scene generator broken"));
        var e = Assert.Throws<InvalidOperationException>(() => prefetcher.Next());
        Assert.Contains("scene generator broken", e.Message);
    }

    [Fact]
    public async Task DisposingWithBatchesStillQueuedStopsTheProducer()
    {
        TorchRuntime.Initialize(null, "cpu");
        var prefetcher = NewPrefetcher(0, 1000, () => new SampleFactory(160, 120), workers: 1);
        using (prefetcher.Next()) { }
        var disposing = Task.Run(prefetcher.Dispose);
        Assert.Same(disposing, await Task.WhenAny(disposing, Task.Delay(TimeSpan.FromSeconds(30))));
    }
}
