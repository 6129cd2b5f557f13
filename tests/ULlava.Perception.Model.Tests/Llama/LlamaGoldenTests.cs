using ULlava.Perception.Model.Llama;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests.Llama;

/// <summary>The port against Hugging Face's LlamaForCausalLM outputs in the fixture (README tolerances, float32 CPU).</summary>
[Collection(LlamaCollection.Name)]
public class LlamaGoldenTests
{
    private static LlamaForCausalLM Model => TinyLlama.Model;

    [Fact]
    public void StateDictKeysAndShapesAreTheCheckpointsLlmKeys()
    {
        var expected = TinyLlama.LlamaStateDict();
        var actual = Model.state_dict();
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, tensor) in expected) Assert.Equal(tensor.shape, actual[key].shape);
    }

    [Fact]
    public void SegPromptEmbeddingsGiveLogitsAndLastHidden()
    {
        using var scope = NewDisposeScope();
        var embeds = TinyLlama.ImagePromptEmbeddings(Model, "seg_prompt_ids");
        using var output = Model.forward(LlamaInput.FromEmbeddings(embeds));
        TensorAssert.Close(Golden.Get("seg_prompt_logits"), output.Logits!, TensorAssert.Logits, "seg_prompt_logits");
        TensorAssert.Close(Golden.Get("seg_prompt_last_hidden"), output.LastHiddenState, TensorAssert.Features, "seg_prompt_last_hidden");
    }

    [Fact]
    public void SegFullTeacherForcedGivesLogitsAndLastHidden()
    {
        using var scope = NewDisposeScope();
        var embeds = TinyLlama.ImagePromptEmbeddings(Model, "seg_full_ids");
        using var output = Model.forward(LlamaInput.FromEmbeddings(embeds));
        TensorAssert.Close(Golden.Get("seg_full_logits"), output.Logits!, TensorAssert.Logits, "seg_full_logits");
        TensorAssert.Close(Golden.Get("seg_full_last_hidden"), output.LastHiddenState, TensorAssert.Features, "seg_full_last_hidden");
    }

    [Fact]
    public void SegGreedyDecodeMatchesIdsAndStepLogits() =>
        AssertGreedy(TinyLlama.ImagePromptEmbeddings(Model, "seg_prompt_ids"), "seg_greedy_ids", "seg_greedy_step_logits");

    [Fact]
    public void CaptionPromptLastLogits()
    {
        using var scope = NewDisposeScope();
        var embeds = TinyLlama.ImagePromptEmbeddings(Model, "cap_prompt_ids");
        using var output = Model.forward(LlamaInput.FromEmbeddings(embeds, logits: LogitsPositions.Last));
        Assert.Equal(new long[] { 1, 1, 523 }, output.Logits!.shape);
        TensorAssert.Close(Golden.Get("cap_last_logits"), output.Logits.squeeze(1), TensorAssert.Logits, "cap_last_logits");
    }

    [Fact]
    public void CaptionGreedyDecodeMatchesIdsAndStepLogits() =>
        AssertGreedy(TinyLlama.ImagePromptEmbeddings(Model, "cap_prompt_ids"), "cap_greedy_ids", "cap_greedy_step_logits");

    [Fact]
    public void VideoPromptLastLogits()
    {
        using var scope = NewDisposeScope();
        using var output = Model.forward(LlamaInput.FromEmbeddings(TinyLlama.VideoPromptEmbeddings(Model), logits: LogitsPositions.Last));
        TensorAssert.Close(Golden.Get("video_last_logits"), output.Logits!.squeeze(1), TensorAssert.Logits, "video_last_logits");
    }

    [Fact]
    public void VideoGreedyDecodeMatchesIdsAndStepLogits() =>
        AssertGreedy(TinyLlama.VideoPromptEmbeddings(Model), "video_greedy_ids", "video_greedy_step_logits");

    [Fact]
    public void GreedyHiddenStatesAreThoseThatPredictedEachToken()
    {
        // Teacher-force prompt + generated tokens: position prompt-1+i must hold the hidden state that chose token i.
        using var scope = NewDisposeScope();
        var embeds = TinyLlama.ImagePromptEmbeddings(Model, "seg_prompt_ids");
        using var cache = Model.CreateCache(512);
        using var result = Model.Generate(LlamaInput.FromEmbeddings(embeds), cache, new GenerationOptions { MaxNewTokens = 16 });
        var all = cat(new[] { embeds, Model.Embed(result.TokenIds) }, 1);
        using var full = Model.forward(LlamaInput.FromEmbeddings(all, logits: LogitsPositions.None));
        long promptLength = embeds.shape[1];
        var expected = full.LastHiddenState.narrow(1, promptLength - 1, result.Count);
        TensorAssert.Close(expected, result.HiddenStates, TensorAssert.Features, "generation hidden states");
        Assert.Null(full.Logits);
    }

    private static void AssertGreedy(Tensor promptEmbeds, string idsName, string logitsName)
    {
        using var scope = NewDisposeScope();
        var expectedIds = Golden.Get(idsName);
        int n = (int)expectedIds.shape[1];
        using var cache = Model.CreateCache(512);
        var streamed = new List<long>();
        using var result = Model.Generate(LlamaInput.FromEmbeddings(promptEmbeds), cache,
            new GenerationOptions { MaxNewTokens = n, ReturnStepLogits = true }, step => streamed.Add(step.TokenIds[0]));
        Assert.Equal(expectedIds.data<long>().ToArray(), result.TokenIds.data<long>().ToArray());
        Assert.Equal(expectedIds.data<long>().ToArray(), streamed);
        TensorAssert.Close(Golden.Get(logitsName), result.StepLogits!.squeeze(0), TensorAssert.Logits, logitsName);
        // The last token is returned but not yet run through the model.
        Assert.Equal(promptEmbeds.shape[1] + n - 1, cache.Length);
    }
}
