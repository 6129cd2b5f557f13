using TorchSharp;
using ULlava.Perception.Model.Sam;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests.Sam;

public class ConvTranspose2x2Tests
{
    [Theory]
    [InlineData(32, 8)]
    [InlineData(8, 4)]
    [InlineData(128, 32)]
    public void EqualsTheTransposedConvolutionItReplacesWithItsKeys(int inChannels, int outChannels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var reference = nn.ConvTranspose2d(inChannels, outChannels, kernel_size: 2, stride: 2);
        var gemm = new ConvTranspose2x2(inChannels, outChannels);
        Assert.Equal(reference.state_dict().Keys.Order(), gemm.state_dict().Keys.Order()); // the checkpoint's keys
        gemm.load_state_dict(reference.state_dict());

        // Keys' layout as the decoder feeds it: tokens transposed back into an image (not contiguous).
        var x = randn(2, 16 * 12, inChannels).transpose(1, 2).reshape(2, inChannels, 16, 12);
        var expected = reference.forward(x);
        var actual = gemm.forward(x);
        Assert.Equal(expected.shape, actual.shape);
        TensorAssert.Close(expected, actual, TensorAssert.Features, "fp32");

        // bf16: within bf16's own rounding of the fp32 result (libtorch's CPU bf16 deconvolution with ≤ 8 output
        // channels misses by 15 % and more, the reason this layer exists).
        gemm.to(ScalarType.BFloat16);
        var bf16 = gemm.forward(x.to(ScalarType.BFloat16)).to(ScalarType.Float32);
        double relative = ((bf16 - expected).norm() / expected.norm()).item<float>();
        Assert.True(relative < 0.01, $"bf16 relative error {relative:E2}");
    }
}
