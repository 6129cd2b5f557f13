using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests;

/// <summary>The tiny checkpoint's model.safetensors, loaded once per test run (shared: do not dispose).</summary>
public static class TinyWeights
{
    private static readonly Lazy<Dictionary<string, Tensor>> All = new(() => Golden.LoadShared(Path.Combine(Fixtures.TinyCheckpoint, "model.safetensors")));

    /// <summary>The entries under <paramref name="prefix"/> (e.g. "llm.vision_encoder."), keyed without it.</summary>
    public static Dictionary<string, Tensor> Under(string prefix)
    {
        var result = All.Value.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
        if (result.Count == 0) throw new KeyNotFoundException($"no checkpoint keys under '{prefix}'");
        return result;
    }
}
