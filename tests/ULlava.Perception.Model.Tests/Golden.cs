using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests;

/// <summary>The reference tensors of golden_image/golden_video.safetensors, loaded once per test run.</summary>
public static class Golden
{
    private static readonly Lazy<Dictionary<string, Tensor>> ImageTensors = new(() => LoadUnscoped(Fixtures.GoldenImage));
    private static readonly Lazy<Dictionary<string, Tensor>> VideoTensors = new(() => LoadUnscoped(Fixtures.GoldenVideo));

    // A test may first touch these inside its own dispose scope: keep them out of it, they live for the whole run.
    private static Dictionary<string, Tensor> LoadUnscoped(string path)
    {
        using var scope = NewDisposeScope();
        var tensors = Safetensors.LoadStateDict(path);
        scope.Detach(scope.DisposablesView.ToArray());
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
