using static TorchSharp.torch;

namespace ULlava.Perception.Model.Llama;

/// <summary>
/// One forward pass: token ids [B,T] or embeddings [B,T,H] (u-LLaVA splices image features into the embeddings), an
/// optional cache to continue, and which positions need logits.
/// </summary>
public sealed record LlamaInput
{
    public Tensor? InputIds { get; init; }
    public Tensor? InputsEmbeds { get; init; }
    /// <summary>Continue after its valid positions and append to it; null: a standalone pass from position 0.</summary>
    public KvCache? Cache { get; init; }
    public LogitsPositions Logits { get; init; } = LogitsPositions.All;

    /// <summary>
    /// Packed sequences (training several questions on one shared image prefix): each token's rotary position [B,T] and
    /// which keys each query may see [B,1,T,T] (true = may attend). Both or neither, and only without a cache; null: the
    /// ordinary causal sequence from position 0.
    /// </summary>
    public PackedLayout? Packing { get; init; }

    public static LlamaInput FromIds(Tensor inputIds, KvCache? cache = null, LogitsPositions logits = LogitsPositions.All) =>
        new() { InputIds = inputIds, Cache = cache, Logits = logits };

    public static LlamaInput FromEmbeddings(Tensor inputsEmbeds, KvCache? cache = null, LogitsPositions logits = LogitsPositions.All) =>
        new() { InputsEmbeds = inputsEmbeds, Cache = cache, Logits = logits };
}

/// <summary>Rotary positions [B,T] (int64) and the attention mask [B,1,T,T] (bool, true = may attend) of packed rows.</summary>
public sealed record PackedLayout(Tensor Positions, Tensor Allowed);
