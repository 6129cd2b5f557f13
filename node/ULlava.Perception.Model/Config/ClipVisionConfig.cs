using System.Text.Json.Serialization;

namespace ULlava.Perception.Model.Config;

/// <summary>Hugging Face <c>CLIPVisionConfig</c>; defaults are CLIP ViT-L/14 at 224 px.</summary>
public sealed record ClipVisionConfig
{
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 1024;
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 4096;
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 24;
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 16;
    [JsonPropertyName("image_size")] public int ImageSize { get; init; } = 224;
    [JsonPropertyName("patch_size")] public int PatchSize { get; init; } = 14;
    [JsonPropertyName("num_channels")] public int NumChannels { get; init; } = 3;
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "quick_gelu";
    [JsonPropertyName("layer_norm_eps")] public double LayerNormEps { get; init; } = 1e-5;
    [JsonPropertyName("projection_dim")] public int ProjectionDim { get; init; } = 768;

    [JsonIgnore] public int PatchesPerSide => ImageSize / PatchSize;
    [JsonIgnore] public int NumPatches => PatchesPerSide * PatchesPerSide;
}
