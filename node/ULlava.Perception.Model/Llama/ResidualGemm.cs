using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Llama;

/// <summary>A residual add folded into the projection before it: one GEMM kernel with beta 1 instead of a GEMM and an add.</summary>
internal static class ResidualGemm
{
    /// <summary><paramref name="residual"/> += <paramref name="input"/> · projᵀ (+ bias), in place; returns <paramref name="residual"/>.</summary>
    public static Tensor AddInto(Tensor residual, Tensor input, Linear proj)
    {
        using var scope = NewDisposeScope();
        long width = residual.shape[^1];
        residual.view(-1, width).addmm_(input.reshape(-1, input.shape[^1]), proj.weight!.t());
        if (proj.bias is not null) residual.add_(proj.bias);
        return residual;
    }
}
