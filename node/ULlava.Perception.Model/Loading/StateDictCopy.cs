using System.Collections;
using TorchSharp;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Loading;

/// <summary>Copies checkpoint tensors into a module by key, failing on anything missing, unexpected or mis-shaped.</summary>
public static class StateDictCopy
{
    /// <summary>
    /// Copies <c>prefix + name</c> from <paramref name="source"/> into every parameter and persistent buffer of
    /// <paramref name="module"/>; source keys under the prefix that the module lacks are an error too.
    /// Returns how many tensors were copied.
    /// </summary>
    public static int Into(nn.Module module, IReadOnlyDictionary<string, Tensor> source, string prefix = "")
    {
        var targets = module.state_dict();
        var problems = new List<string>();
        foreach (var (name, target) in targets)
        {
            if (!source.TryGetValue(prefix + name, out var src)) problems.Add($"missing tensor '{prefix}{name}' (expected shape [{Shape(target)}])");
            else if (!src.shape.SequenceEqual(target.shape)) problems.Add($"tensor '{prefix}{name}' has shape [{Shape(src)}], expected [{Shape(target)}]");
            else if (target.is_floating_point() && !src.is_floating_point()) problems.Add($"tensor '{prefix}{name}' has dtype {src.dtype}, expected a floating-point tensor");
        }
        foreach (var key in source.Keys)
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal) && !targets.ContainsKey(key[prefix.Length..]))
                problems.Add($"unexpected tensor '{key}' [{Shape(source[key])}]");
        }
        if (problems.Count > 0)
        {
            var message = new System.Text.StringBuilder($"the checkpoint does not match {module.GetName()} under '{prefix}' ({problems.Count} problem(s)):");
            foreach (var p in problems.Take(20)) message.Append("\n  ").Append(p);
            if (problems.Count > 20) message.Append($"\n  ... and {problems.Count - 20} more");
            throw new InvalidDataException(message.ToString());
        }
        using var noGrad = no_grad();
        foreach (var (name, target) in targets)
        {
            using var scope = NewDisposeScope();
            target.copy_(source[prefix + name].to(target.dtype, target.device));
        }
        return targets.Count;
    }

    private static string Shape(Tensor t) => string.Join(",", t.shape);

    /// <summary>Reads a PyTorch state-dict pickle (.pth/.bin) into a name → tensor map.</summary>
    public static Dictionary<string, Tensor> ReadPyTorch(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"PyTorch checkpoint not found: {path}", path);
        var table = TorchSharp.PyBridge.PyTorchUnpickler.UnpickleStateDict(path);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in table)
        {
            if (e.Key is string key && e.Value is Tensor t) result[key] = t;
            else throw new InvalidDataException($"{path}: entry '{e.Key}' is not a tensor");
        }
        return result;
    }
}
