using TorchSharp;
using TorchSharp.Modules;
using ULlava.Perception.Model.Native;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Llama;

/// <summary>LLaMA RMSNorm: normalised in float32 whatever the input dtype (as Hugging Face does), then scaled by <c>weight</c>.</summary>
public sealed class LlamaRmsNorm : nn.Module<Tensor, Tensor>
{
    private static readonly Scalar Two = 2.ToScalar();

    private readonly double _eps;

    // Field name = checkpoint key.
    private readonly Parameter weight;

    public LlamaRmsNorm(long hiddenSize, double eps, Device? device = null, ScalarType? dtype = null, string name = "norm") : base(name)
    {
        _eps = eps;
        // Trainable like every other parameter; inference runs under no_grad, so this costs it nothing.
        weight = new Parameter(ones(hiddenSize, dtype: dtype ?? ScalarType.Float32, device: device));
        RegisterComponents();
    }

    public Parameter Weight => weight;

    /// <summary>
    /// Computes the norm and its scale through layer_norm's single fused kernel instead of the eight elementwise kernels
    /// of Hugging Face's formula (false, the default: the formula, which the fused form is tested against). The engine
    /// turns it on for CUDA, where each kernel launch counts (decode ×0.5 on an H100); on the CPU layer_norm over the
    /// doubled width is slower for prompts (BENCHMARKS.md). Set it once the weight is final: the fused form keeps its own
    /// copy of the weight.
    /// </summary>
    public bool Fused
    {
        get => _fused;
        set
        {
            _fused = value;
            _fusedScale?.Dispose();
            _fusedScale = null;
        }
    }

    private bool _fused;

    // [weight, 0]: layer_norm's own scale over the doubled width, so the weight costs no kernel of its own.
    private Tensor? _fusedScale;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        if (_fused)
        {
            // [x, -x] has mean 0 and variance mean(x²), so layer_norm over it gives x·rsqrt(mean(x²) + eps)·weight in its
            // first half, computed in float32 and rounded once to the input dtype (HF rounds before the weight and after:
            // the two differ by at most one unit in the last place).
            long d = input.shape[^1];
            if (_fusedScale is null)
            {
                using var noGrad = no_grad();
                _fusedScale = cat(new[] { weight.detach(), zeros_like(weight) }).DetachFromDisposeScope();
            }
            var normed = nn.functional.layer_norm(cat(new[] { input, input.neg() }, -1), new[] { 2 * d }, _fusedScale.to_type(input.dtype), null, _eps);
            return normed.narrow(-1, 0, d).MoveToOuterDisposeScope();
        }
        var inputDtype = input.dtype;
        var x = input.to_type(ScalarType.Float32);
        var variance = x.pow(Two).mean(new long[] { -1 }, keepdim: true);
        using var eps = _eps.ToScalar();
        x = x * rsqrt(variance.Plus(eps));
        return (weight * x.to_type(inputDtype)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            weight.Dispose();
            _fusedScale?.Dispose();
        }
        base.Dispose(disposing);
    }
}
