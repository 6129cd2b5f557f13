using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests;

/// <summary>The reference tensors of golden_image/golden_video.safetensors, loaded once per test run.</summary>
public static class Golden
{
    private static readonly Lazy<Dictionary<string, Tensor>> ImageTensors = new(() => LoadDetached(Fixtures.GoldenImage));
    private static readonly Lazy<Dictionary<string, Tensor>> VideoTensors = new(() => LoadDetached(Fixtures.GoldenVideo));

    /// <summary>
    /// Loads a safetensors file whose tensors outlive the dispose scope that happens to be open at first use
    /// (otherwise the first test to touch them inside a scope disposes them for every later test).
    /// </summary>
    public static Dictionary<string, Tensor> LoadDetached(string path)
    {
        var tensors = Safetensors.LoadStateDict(path);
        foreach (var t in tensors.Values) t.DetachFromDisposeScope();
        return tensors;
    }

    /// <summary>A golden tensor by its name in golden.json (shared: do not dispose).</summary>
    public static Tensor Get(string name)
    {
        if (ImageTensors.Value.TryGetValue(name, out var t)) return t;
        if (VideoTensors.Value.TryGetValue(name, out t)) return t;
        throw new KeyNotFoundException($"no golden tensor '{name}'");
    }
}
