using System.Text.Json;
using System.Text.Json.Serialization;

namespace ULlava.Perception.Model.Config;

/// <summary>config.json of a u-LLaVA checkpoint (model_type <c>ullava</c>).</summary>
public sealed record ULlavaConfig
{
    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "ullava";
    [JsonPropertyName("llm_config")] public LlamaConfig LlmConfig { get; init; } = new();
    /// <summary>Width of the [SEG]/[LOC] embeddings fed to SAM's prompt encoder (= SAM's prompt_embed_dim).</summary>
    [JsonPropertyName("out_dim")] public int OutDim { get; init; } = 256;
    [JsonPropertyName("seg_token_idx")] public int SegTokenIdx { get; init; } = 32007;
    [JsonPropertyName("loc_token_idx")] public int LocTokenIdx { get; init; } = 32008;
    [JsonPropertyName("torch_dtype")] public string? TorchDtype { get; init; }
    /// <summary>Only small test models carry this; absent means SAM ViT-H.</summary>
    [JsonPropertyName("sam_config")] public SamConfig? SamConfigOverride { get; init; }

    [JsonIgnore] public SamConfig Sam => SamConfigOverride ?? SamConfig.VitH;

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    /// <summary>Reads config.json, failing with a message that names the file and what was expected.</summary>
    public static ULlavaConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"u-LLaVA config not found: {path}", path);
        ULlavaConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<ULlavaConfig>(File.ReadAllText(path), JsonOptions);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid u-LLaVA config.json ({e.Message})", e);
        }
        if (config is null) throw new InvalidDataException($"{path}: empty config");
        if (config.ModelType != "ullava")
            throw new InvalidDataException($"{path}: model_type is '{config.ModelType}', expected 'ullava'");
        return config;
    }
}
