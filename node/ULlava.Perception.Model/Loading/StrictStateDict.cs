using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Loading;

/// <summary>
/// Copies a checkpoint into a module strictly: every parameter and buffer of the module must be in the
/// checkpoint with the same shape, and the checkpoint may hold nothing else. Errors list what is missing,
/// unexpected or mis-shaped, with the shape expected.
/// </summary>
public static class StrictStateDict
{
    /// <param name="ignoredCheckpointKeys">Checkpoint keys the model has no use for (e.g. CLIP's unused heads).</param>
    public static void Load(nn.Module module, IReadOnlyDictionary<string, Tensor> checkpoint, string source, Func<string, bool>? ignoredCheckpointKeys = null)
    {
        var expected = module.state_dict();
        var problems = new List<string>();
        foreach (var (name, target) in expected)
        {
            if (!checkpoint.TryGetValue(name, out var value)) problems.Add($"missing tensor '{name}' (expected shape [{Shape(target)}])");
            else if (!value.shape.SequenceEqual(target.shape)) problems.Add($"tensor '{name}' has shape [{Shape(value)}], expected [{Shape(target)}]");
            else if (!value.is_floating_point() && target.is_floating_point()) problems.Add($"tensor '{name}' has dtype {value.dtype}, expected a floating-point tensor");
        }
        foreach (var name in checkpoint.Keys)
        {
            if (!expected.ContainsKey(name) && !(ignoredCheckpointKeys?.Invoke(name) ?? false)) problems.Add($"unexpected tensor '{name}' [{Shape(checkpoint[name])}]");
        }
        if (problems.Count > 0)
        {
            var message = new StringBuilder($"{source}: the checkpoint does not match the model ({problems.Count} problem(s)):");
            foreach (var p in problems.Take(20)) message.Append("\n  ").Append(p);
            if (problems.Count > 20) message.Append($"\n  ... and {problems.Count - 20} more");
            throw new InvalidDataException(message.ToString());
        }
        using var noGrad = no_grad();
        foreach (var (name, target) in expected)
        {
            using var scope = NewDisposeScope();
            target.copy_(checkpoint[name].to(target.dtype, target.device));
        }
    }

    private static string Shape(Tensor t) => string.Join(",", t.shape);
}
