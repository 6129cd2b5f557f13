using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ULlava.Training.Training;

/// <summary>One module's weights as a safetensors file (the stage outputs: vision tower, SAM; the probes), or taken from a model folder's checkpoint.</summary>
public static class ModuleWeights
{
    /// <summary>Writes the module's state dict (CPU, contiguous) to <paramref name="path"/>.</summary>
    public static void Save(nn.Module module, string path)
    {
        using var scope = NewDisposeScope();
        Safetensors.SaveStateDict(path, module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().contiguous()));
    }

    /// <summary>Copies <paramref name="path"/>'s tensors into the module; <paramref name="missing"/> says what wrote the file when it is not there.</summary>
    public static void Load(nn.Module module, string path, string missing)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} not found: {missing}", path);
        var weights = Safetensors.LoadStateDict(path);
        try
        {
            Perception.Model.Loading.StateDictCopy.Into(module, weights);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    /// <summary>Copies the tensors of a model folder's checkpoint keyed <paramref name="prefix"/>* into the module (the prefix cut off).</summary>
    public static void LoadFromModel(nn.Module module, string modelDir, string prefix)
    {
        var weights = Perception.Model.Loading.CheckpointWeights.Load(modelDir);
        try
        {
            var part = weights.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
            if (part.Count == 0) throw new InvalidDataException($"{modelDir}: the model has no {prefix}* weights");
            Perception.Model.Loading.StateDictCopy.Into(module, part);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }
}
