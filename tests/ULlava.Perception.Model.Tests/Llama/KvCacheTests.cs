using ULlava.Perception.Model.Llama;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests.Llama;

[Collection(LlamaCollection.Name)]
public class KvCacheTests
{
    private static LlamaForCausalLM Model => TinyLlama.Model;

    private static Tensor Ids(params long[] ids) => tensor(ids, dtype: ScalarType.Int64).unsqueeze(0);

    [Fact]
    public void PrefillThenSingleStepsGiveTheLogitsOfAFullRecompute()
    {
        using var scope = NewDisposeScope();
        var all = Golden.Get("seg_full_ids");
        var embeds = TinyLlama.ImagePromptEmbeddings(Model, "seg_full_ids");
        using var full = Model.forward(LlamaInput.FromEmbeddings(embeds));
        int prompt = 340, total = (int)all.shape[1];

        using var cache = Model.CreateCache(total);
        using (var pre = Model.forward(LlamaInput.FromEmbeddings(embeds.narrow(1, 0, prompt), cache)))
            TensorAssert.Close(full.Logits!.narrow(1, 0, prompt), pre.Logits!, TensorAssert.Logits, "prefill");
        for (int i = prompt; i < total; i++)
        {
            using var step = Model.forward(LlamaInput.FromIds(all.narrow(1, i, 1), cache, LogitsPositions.Last));
            TensorAssert.Close(full.Logits!.narrow(1, i, 1), step.Logits!, TensorAssert.Logits, $"step {i}");
            TensorAssert.Close(full.LastHiddenState.narrow(1, i, 1), step.LastHiddenState, TensorAssert.Features, $"hidden {i}");
        }
        Assert.Equal(total, cache.Length);
    }

    [Fact]
    public void ABlockAppendedAfterACachedPrefixIsCausallyMasked()
    {
        // Prefill 300, then 65 tokens at once: the block's mask must be aligned bottom-right (query i sees 300 + i keys).
        using var scope = NewDisposeScope();
        var embeds = TinyLlama.ImagePromptEmbeddings(Model, "seg_full_ids");
        using var full = Model.forward(LlamaInput.FromEmbeddings(embeds));
        using var cache = Model.CreateCache(400);
        Model.forward(LlamaInput.FromEmbeddings(embeds.narrow(1, 0, 300), cache, LogitsPositions.None)).Dispose();
        using var block = Model.forward(LlamaInput.FromEmbeddings(embeds.narrow(1, 300, 65), cache));
        TensorAssert.Close(full.Logits!.narrow(1, 300, 65), block.Logits!, TensorAssert.Logits, "block after prefix");
    }

    [Fact]
    public void ClonedOrCopiedPrefixGivesTheSameGenerationAsAFreshPrefill()
    {
        using var scope = NewDisposeScope();
        // Shared prefix: everything up to and including the image; then two different instructions.
        var seg = TinyLlama.ImagePromptEmbeddings(Model, "seg_prompt_ids");
        var cap = TinyLlama.ImagePromptEmbeddings(Model, "cap_prompt_ids");
        int prefix = CommonPrefixLength(Golden.Get("seg_prompt_ids"), Golden.Get("cap_prompt_ids"));
        Assert.True(prefix > 256, $"prompts share {prefix} tokens");

        using var shared = Model.CreateCache(prefix);
        Model.forward(LlamaInput.FromEmbeddings(seg.narrow(1, 0, prefix), shared, LogitsPositions.None)).Dispose();

        var options = new GenerationOptions { MaxNewTokens = 8, ReturnStepLogits = true };
        foreach (var (name, embeds) in new[] { ("seg", seg), ("cap", cap) })
        {
            using var freshCache = Model.CreateCache(400);
            using var fresh = Model.Generate(LlamaInput.FromEmbeddings(embeds), freshCache, options);

            using var cloned = shared.Clone(maxLength: 400);
            using var viaClone = Model.Generate(LlamaInput.FromEmbeddings(embeds.narrow(1, prefix, embeds.shape[1] - prefix)), cloned, options);
            Assert.Equal(fresh.TokenIds.data<long>().ToArray(), viaClone.TokenIds.data<long>().ToArray());
            TensorAssert.Close(fresh.StepLogits!, viaClone.StepLogits!, TensorAssert.Logits, $"{name} via Clone");

            // Reusing one cache: run the suffix, truncate back to the prefix, run again: same answer.
            using var reused = Model.CreateCache(400);
            reused.CopyPrefixFrom(shared, prefix);
            Model.Generate(LlamaInput.FromEmbeddings(embeds.narrow(1, prefix, embeds.shape[1] - prefix)), reused, options).Dispose();
            reused.Truncate(prefix);
            using var again = Model.Generate(LlamaInput.FromEmbeddings(embeds.narrow(1, prefix, embeds.shape[1] - prefix)), reused, options);
            Assert.Equal(fresh.TokenIds.data<long>().ToArray(), again.TokenIds.data<long>().ToArray());
            TensorAssert.Close(fresh.StepLogits!, again.StepLogits!, TensorAssert.Logits, $"{name} via CopyPrefixFrom/Truncate");
        }
        Assert.Equal(prefix, shared.Length);
    }

    [Fact]
    public void ABatchOfInstructionsSharesABatchOnePrefix()
    {
        using var scope = NewDisposeScope();
        var ids = Ids(1, 277, 345, 355, 259, 300, 301, 302);
        using var shared = Model.CreateCache(16);
        Model.forward(LlamaInput.FromIds(ids.narrow(1, 0, 5), shared, LogitsPositions.None)).Dispose();

        using var batch = Model.CreateCache(16, batchSize: 2);
        batch.CopyPrefixFrom(shared, 5);
        var suffixes = cat(new[] { Ids(300, 301, 302), Ids(400, 401, 402) }, 0);
        using var batched = Model.forward(LlamaInput.FromIds(suffixes, batch, LogitsPositions.Last));
        Assert.Equal(8, batch.Length);

        for (int row = 0; row < 2; row++)
        {
            using var single = Model.forward(LlamaInput.FromIds(cat(new[] { ids.narrow(1, 0, 5), suffixes.narrow(0, row, 1) }, 1), logits: LogitsPositions.Last));
            TensorAssert.Close(single.Logits!, batched.Logits!.narrow(0, row, 1), TensorAssert.Logits, $"row {row}");
        }
    }

    [Fact]
    public void OverflowAndBadArgumentsAreRefusedWithoutChangingTheCache()
    {
        using var scope = NewDisposeScope();
        using var cache = Model.CreateCache(4);
        Model.forward(LlamaInput.FromIds(Ids(1, 2, 3), cache, LogitsPositions.None)).Dispose();
        Assert.Throws<InvalidOperationException>(() => Model.forward(LlamaInput.FromIds(Ids(4, 5), cache)));
        Assert.Equal(3, cache.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Truncate(5));
        using var wrongBatch = Model.CreateCache(8, batchSize: 3);
        using var two = Model.CreateCache(8, batchSize: 2);
        two.CopyPrefixFrom(cache, 3);
        Assert.Throws<ArgumentException>(() => wrongBatch.CopyPrefixFrom(two, 3));
    }

    [Fact]
    public void GenerationStopsWhenTheCacheIsFull()
    {
        using var scope = NewDisposeScope();
        using var cache = Model.CreateCache(6);
        using var result = Model.Generate(LlamaInput.FromIds(Ids(1, 277, 345, 355)), cache, new GenerationOptions { MaxNewTokens = 10 });
        Assert.Equal(StopReason.CacheFull, result.StopReason);
        Assert.Equal(3, result.Count); // prompt 4 + 2 decoded tokens fill 6; the third token needs no slot
        Assert.Equal(6, cache.Length);
    }

    private static int CommonPrefixLength(Tensor a, Tensor b)
    {
        var x = a.data<long>().ToArray();
        var y = b.data<long>().ToArray();
        int n = 0;
        while (n < Math.Min(x.Length, y.Length) && x[n] == y[n]) n++;
        return n;
    }
}
