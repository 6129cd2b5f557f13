using TorchSharp;
using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Llama;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests.Llama;

/// <summary>The fixture's LLaMA (float32, CPU) with the checkpoint's <c>llm.*</c> weights, and the prompt embeddings.</summary>
public static class TinyLlama
{
    private static readonly Lazy<ULlavaConfig> ConfigValue = new(() => ULlavaConfig.Load(Path.Combine(Fixtures.TinyCheckpoint, "config.json")));
    private static readonly Lazy<Dictionary<string, Tensor>> CheckpointValue =
        new(() => Golden.LoadShared(Path.Combine(Fixtures.TinyCheckpoint, "model.safetensors")));
    private static readonly Lazy<LlamaForCausalLM> ModelValue = new(() => Load());

    public static ULlavaConfig Config => ConfigValue.Value;

    /// <summary>Every tensor of model.safetensors (shared: do not dispose).</summary>
    public static Dictionary<string, Tensor> Checkpoint => CheckpointValue.Value;

    /// <summary>Shared float32 model; tests that change it (dtype, kernel) build their own with <see cref="Load"/>.</summary>
    public static LlamaForCausalLM Model => ModelValue.Value;

    /// <summary>The checkpoint's LLaMA keys (<c>llm.</c> stripped): everything under llm. but the vision tower and projector.</summary>
    public static Dictionary<string, Tensor> LlamaStateDict() => Checkpoint
        .Where(kv => kv.Key.StartsWith("llm.", StringComparison.Ordinal) && !kv.Key.StartsWith("llm.vision_", StringComparison.Ordinal))
        .ToDictionary(kv => kv.Key["llm.".Length..], kv => kv.Value);

    public static LlamaForCausalLM Load()
    {
        var model = new LlamaForCausalLM(Config.LlmConfig);
        var (missing, unexpected) = model.load_state_dict(LlamaStateDict(), strict: true);
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new InvalidDataException($"missing [{string.Join(",", missing)}] unexpected [{string.Join(",", unexpected)}]");
        // A test may build it inside its own dispose scope: the weights must not go with that scope.
        foreach (var p in model.parameters()) p.DetachFromDisposeScope();
        model.eval();
        return model;
    }

    /// <summary>embed_tokens(ids) with the positions holding <paramref name="placeholderId"/> replaced, in order, by <paramref name="features"/> [1,N,H].</summary>
    public static Tensor SpliceEmbeddings(LlamaForCausalLM model, Tensor ids, long placeholderId, Tensor features)
    {
        using var scope = NewDisposeScope();
        var embeds = model.Embed(ids);
        var mask = ids.eq(placeholderId);
        Assert.Equal(features.shape[1], mask.sum().item<long>());
        var result = embeds.masked_scatter(mask.unsqueeze(-1).expand_as(embeds), features.to(embeds.dtype));
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Prompt embeddings of the image goldens (seg/cap prompts, 256 <c>&lt;image_patch&gt;</c> positions).</summary>
    public static Tensor ImagePromptEmbeddings(LlamaForCausalLM model, string idsName) =>
        SpliceEmbeddings(model, Golden.Get(idsName), Config.LlmConfig.MmTokenIds.ImagePatch, Golden.Get("image_features_projected"));

    /// <summary>Video prompt embeddings: the ST features through the checkpoint's projector (a plain Linear here), spliced at <c>&lt;video_patch&gt;</c>.</summary>
    public static Tensor VideoPromptEmbeddings(LlamaForCausalLM model)
    {
        using var scope = NewDisposeScope();
        var projected = nn.functional.linear(Golden.Get("video_st_features"),
            Checkpoint["llm.vision_projector.weight"], Checkpoint["llm.vision_projector.bias"]);
        return SpliceEmbeddings(model, Golden.Get("video_prompt_ids"), Config.LlmConfig.MmTokenIds.VideoPatch, projected)
            .MoveToOuterDisposeScope();
    }
}
