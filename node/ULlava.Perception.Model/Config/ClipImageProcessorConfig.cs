using System.Text.Json.Serialization;

namespace ULlava.Perception.Model.Config;

/// <summary>preprocessor_config.json of a Hugging Face <c>CLIPImageProcessor</c>.</summary>
public sealed record ClipImageProcessorConfig
{
    [JsonPropertyName("do_resize")] public bool DoResize { get; init; } = true;
    [JsonPropertyName("size")] public ShortestEdgeSize Size { get; init; } = new();
    /// <summary>PIL resample filter; 3 = bicubic (the only one CLIP uses).</summary>
    [JsonPropertyName("resample")] public int Resample { get; init; } = 3;
    [JsonPropertyName("do_center_crop")] public bool DoCenterCrop { get; init; } = true;
    [JsonPropertyName("crop_size")] public JsonCropSize CropSize { get; init; } = new(224);
    [JsonPropertyName("do_rescale")] public bool DoRescale { get; init; } = true;
    [JsonPropertyName("rescale_factor")] public double RescaleFactor { get; init; } = 1.0 / 255.0;
    [JsonPropertyName("do_normalize")] public bool DoNormalize { get; init; } = true;
    [JsonPropertyName("image_mean")] public float[] ImageMean { get; init; } = { 0.48145466f, 0.4578275f, 0.40821073f };
    [JsonPropertyName("image_std")] public float[] ImageStd { get; init; } = { 0.26862954f, 0.26130258f, 0.27577711f };

    public sealed record ShortestEdgeSize
    {
        [JsonPropertyName("shortest_edge")] public int ShortestEdge { get; init; } = 224;
    }
}
