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

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var inputDtype = input.dtype;
        var x = input.to_type(ScalarType.Float32);
        var variance = x.pow(Two).mean(new long[] { -1 }, keepdim: true);
        using var eps = _eps.ToScalar();
        x = x * rsqrt(variance.Plus(eps));
        return (weight * x.to_type(inputDtype)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) weight.Dispose();
        base.Dispose(disposing);
    }
}
