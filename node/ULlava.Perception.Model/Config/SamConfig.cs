using System.Text.Json.Serialization;

namespace ULlava.Perception.Model.Config;

/// <summary>
/// SAM sizes (u-LLaVA's <c>sam_config</c> block). A real u-LLaVA config has none and means ViT-H;
/// <see cref="VitH"/>, <see cref="VitL"/>, <see cref="VitB"/> are Meta's presets, and a block's fields override them.
/// </summary>
public sealed record SamConfig
{
    [JsonPropertyName("image_size")] public int ImageSize { get; init; } = 1024;
    [JsonPropertyName("patch_size")] public int PatchSize { get; init; } = 16;
    [JsonPropertyName("encoder_embed_dim")] public int EncoderEmbedDim { get; init; } = 1280;
    [JsonPropertyName("encoder_depth")] public int EncoderDepth { get; init; } = 32;
    [JsonPropertyName("encoder_num_heads")] public int EncoderNumHeads { get; init; } = 16;
    [JsonPropertyName("encoder_global_attn_indexes")] public int[] EncoderGlobalAttnIndexes { get; init; } = { 7, 15, 23, 31 };
    [JsonPropertyName("window_size")] public int WindowSize { get; init; } = 14;
    [JsonPropertyName("mlp_ratio")] public double MlpRatio { get; init; } = 4.0;
    [JsonPropertyName("prompt_embed_dim")] public int PromptEmbedDim { get; init; } = 256;
    [JsonPropertyName("mask_in_chans")] public int MaskInChans { get; init; } = 16;
    [JsonPropertyName("decoder_depth")] public int DecoderDepth { get; init; } = 2;
    [JsonPropertyName("decoder_mlp_dim")] public int DecoderMlpDim { get; init; } = 2048;
    [JsonPropertyName("decoder_num_heads")] public int DecoderNumHeads { get; init; } = 8;
    [JsonPropertyName("iou_head_depth")] public int IouHeadDepth { get; init; } = 3;
    [JsonPropertyName("iou_head_hidden_dim")] public int IouHeadHiddenDim { get; init; } = 256;
    [JsonPropertyName("num_multimask_outputs")] public int NumMultimaskOutputs { get; init; } = 3;
    [JsonPropertyName("pixel_mean")] public float[] PixelMean { get; init; } = { 123.675f, 116.28f, 103.53f };
    [JsonPropertyName("pixel_std")] public float[] PixelStd { get; init; } = { 58.395f, 57.12f, 57.375f };

    [JsonIgnore] public int EmbeddingSide => ImageSize / PatchSize;

    public static SamConfig VitH => new();
    public static SamConfig VitL => new() { EncoderEmbedDim = 1024, EncoderDepth = 24, EncoderGlobalAttnIndexes = new[] { 5, 11, 17, 23 } };
    public static SamConfig VitB => new() { EncoderEmbedDim = 768, EncoderDepth = 12, EncoderNumHeads = 12, EncoderGlobalAttnIndexes = new[] { 2, 5, 8, 11 } };
}
