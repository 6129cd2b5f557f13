using System.Text.Json;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Loading;

/// <summary>
/// Reads the tensors of a checkpoint folder in any of the Hugging Face layouts: <c>model.safetensors</c>,
/// sharded safetensors with <c>model.safetensors.index.json</c>, <c>pytorch_model.bin</c>, or sharded
/// <c>pytorch_model-*.bin</c> with <c>pytorch_model.bin.index.json</c>.
/// </summary>
public static class CheckpointWeights
{
    public static readonly string[] Layouts =
    {
        "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json",
    };

    /// <summary>The weight files of <paramref name="dir"/> in load order; an error names the folder and the layouts looked for.</summary>
    public static IReadOnlyList<string> Files(string dir)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"checkpoint folder not found: {dir}");
        foreach (var layout in Layouts)
        {
            string path = Path.Combine(dir, layout);
            if (!File.Exists(path)) continue;
            return layout.EndsWith(".index.json", StringComparison.Ordinal) ? ShardsOf(path) : new[] { path };
        }
        throw new FileNotFoundException($"{dir}: no weights found; expected one of {string.Join(", ", Layouts)}");
    }

    /// <summary>Loads every tensor (on the CPU, as stored) into one dictionary; the caller disposes them.</summary>
    public static Dictionary<string, Tensor> Load(string dir)
    {
        var all = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var file in Files(dir))
        {
            Dictionary<string, Tensor> part;
            try
            {
                part = file.EndsWith(".safetensors", StringComparison.Ordinal)
                    ? Safetensors.LoadStateDict(file)
                    : StateDictCopy.ReadPyTorch(file);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new InvalidDataException($"{file}: cannot read the weights ({e.Message}); the file may be truncated or not a checkpoint", e);
            }
            foreach (var (name, tensor) in part)
            {
                if (!all.TryAdd(name, tensor)) throw new InvalidDataException($"{file}: tensor '{name}' appears in more than one shard");
            }
        }
        return all;
    }

    private static IReadOnlyList<string> ShardsOf(string indexPath)
    {
        string dir = Path.GetDirectoryName(indexPath)!;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(indexPath));
            var files = doc.RootElement.GetProperty("weight_map").EnumerateObject().Select(p => p.Value.GetString()!).Distinct().Order(StringComparer.Ordinal).ToList();
            var missing = files.Where(f => !File.Exists(Path.Combine(dir, f))).ToList();
            if (missing.Count > 0) throw new FileNotFoundException($"{indexPath}: shard(s) missing: {string.Join(", ", missing)}");
            return files.Select(f => Path.Combine(dir, f)).ToList();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"{indexPath}: expected a Hugging Face index with a weight_map ({e.Message})", e);
        }
    }
}
