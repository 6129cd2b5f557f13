using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using TorchSharp;
using TorchSharp.PyBridge;
using ULlava.Perception.Model;
using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Loading;
using static TorchSharp.torch;

namespace ULlava.Training.Training;

/// <summary>
/// Checkpoints in u-LLaVA's Hugging Face layout (config.json with the loss weights, model.safetensors keyed like the
/// reference, tokenizer files, preprocessor_config.json), which <c>ULlavaEngine.Load</c> reads, plus the trainer's
/// own optimizer.safetensors and trainer_state.json for resuming.
/// </summary>
public static class CheckpointIO
{
    public const string OptimizerFile = "optimizer.safetensors";
    public const string StateFile = "trainer_state.json";

    private static readonly JsonSerializerOptions WriteOptions = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Writes the model part of a checkpoint (everything the engine loads).</summary>
    public static void WriteModel(string dir, ULlavaForCausalLM model, LossWeights weights)
    {
        Directory.CreateDirectory(dir);
        var config = model.Config;
        var json = JsonSerializer.SerializeToNode(config, WriteOptions)!.AsObject();
        json["architectures"] = new JsonArray("UllavaForCausalLM");
        json["ce_weight"] = weights.Ce;
        json["bce_weight"] = weights.Bce;
        json["dice_weight"] = weights.Dice;
        json["l1_weight"] = weights.L1;
        json["iou_weight"] = weights.Iou;
        json["train_mask_decoder"] = true;
        File.WriteAllText(Path.Combine(dir, "config.json"), json.ToJsonString(WriteOptions));

        var processor = JsonSerializer.SerializeToNode(ModelSizes.Processor(config), WriteOptions)!.AsObject();
        processor["image_processor_type"] = "CLIPImageProcessor";
        File.WriteAllText(Path.Combine(dir, "preprocessor_config.json"), processor.ToJsonString(WriteOptions));

        TokenizerFiles.WriteTo(dir);
        using var scope = NewDisposeScope();
        // Contiguous CPU float copies: safetensors stores raw buffers.
        var tensors = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().contiguous());
        Safetensors.SaveStateDict(Path.Combine(dir, "model.safetensors"), tensors);
    }

    /// <summary>The model, optimizer state and trainer state: a checkpoint a run can resume from.</summary>
    public static void WriteResumable(string dir, ULlavaForCausalLM model, LossWeights weights, AdamWOptimizer optimizer, TrainerState state)
    {
        WriteModel(dir, model, weights);
        optimizer.Save(Path.Combine(dir, OptimizerFile));
        File.WriteAllText(Path.Combine(dir, StateFile), JsonSerializer.Serialize(state, WriteOptions));
    }

    public static TrainerState ReadState(string dir)
    {
        string path = Path.Combine(dir, StateFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{dir} is not a resumable checkpoint ({StateFile} missing)", path);
        return JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty");
    }

    /// <summary>Copies a checkpoint's weights into <paramref name="model"/> (strict: same keys and shapes).</summary>
    public static void LoadWeights(string dir, ULlavaForCausalLM model)
    {
        var weights = CheckpointWeights.Load(dir);
        try
        {
            StateDictCopy.Into(model, weights);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }
}
