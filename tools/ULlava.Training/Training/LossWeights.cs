using System.Text.Json;
using System.Text.Json.Serialization;
using ULlava.Perception.Model.Config;

namespace ULlava.Training.Training;

/// <summary>u-LLaVA's loss weights as its config.json carries them (defaults: the reference tiny checkpoint's).</summary>
public sealed record LossWeights
{
    [JsonPropertyName("ce_weight")] public double Ce { get; init; } = 1.0;
    [JsonPropertyName("bce_weight")] public double Bce { get; init; } = 2.0;
    [JsonPropertyName("dice_weight")] public double Dice { get; init; } = 0.5;
    [JsonPropertyName("l1_weight")] public double L1 { get; init; } = 1.0;
    [JsonPropertyName("iou_weight")] public double Iou { get; init; } = 1.0;

    /// <summary>The weights in a config.json; keys it lacks keep their defaults.</summary>
    public static LossWeights Load(string configPath) =>
        JsonSerializer.Deserialize<LossWeights>(File.ReadAllText(configPath), ULlavaConfig.JsonOptions) ?? new LossWeights();
}
