using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ULlava.Training.Training;

/// <summary>
/// AdamW (decoupled weight decay, bias-corrected moments) over named parameters, with its whole state (step and both
/// moments per parameter) saved to and restored from one safetensors file, so a resumed run takes exactly the steps
/// the uninterrupted run would have. Matrices are decayed; vectors (norms, biases) are not.
/// </summary>
public sealed class AdamWOptimizer : IDisposable
{
    private readonly List<(string Name, Parameter Parameter, Tensor ExpAvg, Tensor ExpAvgSq, bool Decay)> slots = new();

    public AdamWOptimizer(IEnumerable<(string Name, Parameter Parameter)> parameters, double beta1 = 0.9, double beta2 = 0.95, double eps = 1e-8, double weightDecay = 0.01)
    {
        (Beta1, Beta2, Eps, WeightDecay) = (beta1, beta2, eps, weightDecay);
        foreach (var (name, p) in parameters)
        {
            if (!p.requires_grad) continue;
            slots.Add((name, p, zeros_like(p).DetachFromDisposeScope(), zeros_like(p).DetachFromDisposeScope(), p.dim() >= 2));
        }
    }

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public double WeightDecay { get; }

    /// <summary>Steps taken so far (the bias corrections use it).</summary>
    public long Step { get; private set; }

    public IEnumerable<Parameter> Parameters => slots.Select(s => s.Parameter);

    public void ZeroGrad()
    {
        foreach (var s in slots)
        {
            var g = s.Parameter.grad;
            if (g is not null) g.zero_();
        }
    }

    /// <summary>
    /// Scales the gradients so their global L2 norm is at most <paramref name="maxNorm"/> (torch's clip_grad_norm_: the norm
    /// of the per-parameter norms, coefficient max/(norm+1e-6) capped at 1). Unlike clip_grad_norm_, a parameter with no
    /// gradient yet counts as a zero norm instead of being left out: an uninterrupted run has zeroed gradients where a
    /// resumed one has none, and a norm over a vector of another length rounds differently in the last bit, so the two
    /// runs drifted apart (TrainerTests.ResumeContinuesTheSameRun, depending on which batches had masks).
    /// </summary>
    /// <param name="apart">names of parameters clipped as a group of their own (a head whose input is detached, so its
    /// gradients cannot rescale everyone else's): the rest are clipped exactly as if they were not in the optimizer</param>
    public void ClipGradientNorm(double maxNorm, Func<string, bool>? apart = null)
    {
        if (apart is null)
        {
            ClipGroup(slots, maxNorm);
            return;
        }
        ClipGroup(slots.Where(s => !apart(s.Name)).ToList(), maxNorm);
        ClipGroup(slots.Where(s => apart(s.Name)).ToList(), maxNorm);
    }

    private static void ClipGroup(IReadOnlyList<(string Name, Parameter Parameter, Tensor ExpAvg, Tensor ExpAvgSq, bool Decay)> group, double maxNorm)
    {
        if (group.Count == 0) return;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var device = group[0].Parameter.device;
        var norms = stack(group.Select(s => s.Parameter.grad is { } g ? g.norm() : zeros(Array.Empty<long>(), device: device)).ToArray());
        var coefficient = (maxNorm / (norms.norm() + 1e-6)).clamp_max(1.0);
        foreach (var s in group) s.Parameter.grad?.mul_(coefficient);
    }

    public void Update(double learningRate)
    {
        Step++;
        double correction1 = 1 - Math.Pow(Beta1, Step), correction2 = 1 - Math.Pow(Beta2, Step);
        using var noGrad = no_grad();
        foreach (var (_, p, m, v, decay) in slots)
        {
            using var scope = NewDisposeScope();
            // A parameter no loss reached yet (SAM before the first mask sample) has no gradient: it counts as zero, so
            // every parameter takes every step and a resumed run (fresh, gradient-less parameters) matches an
            // uninterrupted one whose gradients were zeroed.
            var g = p.grad;
            if (decay && WeightDecay > 0) p.mul_(1 - learningRate * WeightDecay);
            m.mul_(Beta1);
            v.mul_(Beta2);
            if (g is not null)
            {
                m.add_(g, alpha: 1 - Beta1);
                v.addcmul_(g, g, value: 1 - Beta2);
            }
            var denominator = (v.sqrt() / Math.Sqrt(correction2)).add_(Eps);
            p.addcdiv_(m, denominator, value: -learningRate / correction1);
        }
    }

    public void Save(string path)
    {
        using var scope = NewDisposeScope();
        var state = new Dictionary<string, Tensor> { ["step"] = tensor(new[] { Step }) };
        foreach (var (name, _, m, v, _) in slots)
        {
            state["exp_avg." + name] = m.detach().cpu().contiguous();
            state["exp_avg_sq." + name] = v.detach().cpu().contiguous();
        }
        Safetensors.SaveStateDict(path, state);
    }

    /// <summary>Restores a saved state; every parameter's moments must be there with the same shape.</summary>
    public void Load(string path)
    {
        var state = Safetensors.LoadStateDict(path);
        try
        {
            using var noGrad = no_grad();
            foreach (var (name, p, m, v, _) in slots)
            {
                if (!state.TryGetValue("exp_avg." + name, out var sm) || !state.TryGetValue("exp_avg_sq." + name, out var sv))
                    throw new InvalidDataException($"{path}: no optimizer state for '{name}'");
                if (!sm.shape.SequenceEqual(p.shape) || !sv.shape.SequenceEqual(p.shape))
                    throw new InvalidDataException($"{path}: optimizer state for '{name}' has the wrong shape");
                m.copy_(sm);
                v.copy_(sv);
            }
            Step = state["step"].item<long>();
        }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var s in slots)
        {
            s.ExpAvg.Dispose();
            s.ExpAvgSq.Dispose();
        }
    }
}
