using TorchSharp;
using ULlava.Perception.Model.Llama;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests.Llama;

public class LlamaRmsNormTests
{
    [Theory]
    [InlineData(ScalarType.Float32, 1e-6)]
    [InlineData(ScalarType.BFloat16, 1e-2)] // HF rounds to bfloat16 before the weight and after, the fused form once after it: ≤ 1 ulp apart
    public void FusedFormGivesHuggingFacesFormula(ScalarType dtype, double tolerance)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var norm = new LlamaRmsNorm(96, 1e-6);
        using (no_grad()) norm.Weight.normal_(1, 0.3);
        norm.to(dtype);
        var x = (randn(2, 5, 96) * 4).to(dtype);
        using var noGrad = no_grad();
        Assert.False(norm.Fused); // the formula is the default; the engine fuses on CUDA
        var formula = norm.forward(x);
        norm.Fused = true;
        var fused = norm.forward(x);
        Assert.Equal(dtype, fused.dtype);
        TensorAssert.Close(formula, fused, tolerance);
    }
}
