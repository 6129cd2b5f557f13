using TorchSharp;
using TorchSharp.Modules;
using ULlava.Perception.Model.Native;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Sam;

/// <summary>SAM's LayerNorm over the channel axis of an NCHW tensor (eps 1e-6), keys <c>weight</c>/<c>bias</c>.</summary>
public sealed class LayerNorm2d : nn.Module<Tensor, Tensor>
{
    private static readonly Scalar Two = 2.ToScalar();

    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly double eps;

    public LayerNorm2d(long numChannels, double eps = 1e-6, Device? device = null) : base(nameof(LayerNorm2d))
    {
        weight = new Parameter(ones(numChannels, device: device));
        bias = new Parameter(zeros(numChannels, device: device));
        this.eps = eps;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var u = x.mean(new long[] { 1 }, keepdim: true);
        var centred = x - u;
        var s = centred.pow(Two).mean(new long[] { 1 }, keepdim: true);
        using var epsValue = eps.ToScalar();
        var normed = centred / s.Plus(epsValue).sqrt();
        var y = (weight.view(-1, 1, 1) * normed).Plus(bias.view(-1, 1, 1));
        return y.MoveToOuterDisposeScope();
    }
}
