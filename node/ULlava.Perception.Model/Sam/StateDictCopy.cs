using System.Collections;
using TorchSharp;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Sam;

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
        var missing = targets.Keys.Where(k => !source.ContainsKey(prefix + k)).ToList();
        var unexpected = source.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && !targets.ContainsKey(k[prefix.Length..])).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new InvalidDataException(
                $"state dict does not match {module.GetName()} under '{prefix}': missing [{string.Join(", ", missing.Take(8))}]" +
                $"{(missing.Count > 8 ? $" (+{missing.Count - 8})" : "")}, unexpected [{string.Join(", ", unexpected.Take(8))}]" +
                $"{(unexpected.Count > 8 ? $" (+{unexpected.Count - 8})" : "")}");
        using var noGrad = no_grad();
        foreach (var (name, target) in targets)
        {
            var src = source[prefix + name];
            if (!src.shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{prefix}{name}: checkpoint shape [{string.Join(",", src.shape)}], model expects [{string.Join(",", target.shape)}]");
            target.copy_(src);
        }
        return targets.Count;
    }

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
