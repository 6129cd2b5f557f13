using System.Text.Json.Serialization;

namespace ULlava.Perception.Model.Config;

/// <summary>The <c>llm_config</c> block of a u-LLaVA config.json: a LLaMA decoder plus its vision settings.</summary>
public sealed record LlamaConfig
{
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 32011;
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 4096;
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 11008;
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 32;
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 32;
    /// <summary>Grouped-query attention; null means multi-head (as many KV heads as query heads).</summary>
    [JsonPropertyName("num_key_value_heads")] public int? NumKeyValueHeads { get; init; }
    [JsonPropertyName("head_dim")] public int? HeadDimOverride { get; init; }
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 2048;
    [JsonPropertyName("rms_norm_eps")] public double RmsNormEps { get; init; } = 1e-6;
    [JsonPropertyName("rope_theta")] public double RopeTheta { get; init; } = 10000.0;
    [JsonPropertyName("rope_scaling")] public RopeScalingConfig? RopeScaling { get; init; }
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "silu";
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; }
    [JsonPropertyName("attention_bias")] public bool AttentionBias { get; init; }
    [JsonPropertyName("mlp_bias")] public bool MlpBias { get; init; }
    [JsonPropertyName("bos_token_id")] public int BosTokenId { get; init; } = 1;
    [JsonPropertyName("eos_token_id")] public int EosTokenId { get; init; } = 2;
    [JsonPropertyName("pad_token_id")] public int? PadTokenId { get; init; }
    [JsonPropertyName("vision_config")] public ClipVisionConfig VisionConfig { get; init; } = new();
    /// <summary>Which CLIP hidden state feeds the projector (-2: the one before the last layer).</summary>
    [JsonPropertyName("vision_hidden_layer")] public int VisionHiddenLayer { get; init; } = -2;
    [JsonPropertyName("mm_token_ids")] public MultimodalTokenIds MmTokenIds { get; init; } = new();
    /// <summary><c>mlp</c> (one Linear) or <c>mlp2x</c> (Linear-GELU-Linear).</summary>
    [JsonPropertyName("projector_type")] public string ProjectorType { get; init; } = "mlp";

    [JsonIgnore] public int KeyValueHeads => NumKeyValueHeads ?? NumAttentionHeads;
    [JsonIgnore] public int HeadDim => HeadDimOverride ?? HiddenSize / NumAttentionHeads;
}

/// <summary>Hugging Face rope_scaling: <c>linear</c>, <c>dynamic</c> or <c>llama3</c>.</summary>
public sealed record RopeScalingConfig
{
    [JsonPropertyName("type")] public string? Type { get; init; }
    [JsonPropertyName("rope_type")] public string? RopeType { get; init; }
    [JsonPropertyName("factor")] public double Factor { get; init; } = 1.0;
    [JsonPropertyName("low_freq_factor")] public double? LowFreqFactor { get; init; }
    [JsonPropertyName("high_freq_factor")] public double? HighFreqFactor { get; init; }
    [JsonPropertyName("original_max_position_embeddings")] public int? OriginalMaxPositionEmbeddings { get; init; }

    [JsonIgnore] public string Kind => RopeType ?? Type ?? "default";
}

/// <summary>Ids of u-LLaVA's multimodal marker tokens (32001.. for Vicuna; from config.json).</summary>
public sealed record MultimodalTokenIds
{
    [JsonPropertyName("IMG_PATCH")] public int ImagePatch { get; init; } = 32001;
    [JsonPropertyName("VID_PATCH")] public int VideoPatch { get; init; } = 32002;
    [JsonPropertyName("IMG_START")] public int ImageStart { get; init; } = 32003;
    [JsonPropertyName("IMG_END")] public int ImageEnd { get; init; } = 32004;
    [JsonPropertyName("VID_START")] public int VideoStart { get; init; } = 32005;
    [JsonPropertyName("VID_END")] public int VideoEnd { get; init; } = 32006;
}
