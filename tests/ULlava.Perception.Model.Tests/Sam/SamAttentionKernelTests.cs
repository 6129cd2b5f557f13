using TorchSharp;
using ULlava.Perception.Model.Sam;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests.Sam;

/// <summary>The fused SDPA form of SAM's relative-position attention against Meta's eager formulation.</summary>
public class SamAttentionKernelTests
{
    [Theory]
    [InlineData(20, 7, 64, 4)]   // windowed, the grid padded to 21 (SAM-H: 64 in windows of 14)
    [InlineData(20, 10, 128, 4)] // windowed, the default model's blocks
    [InlineData(12, 0, 64, 2)]   // global attention over the whole grid
    [InlineData(9, 0, 96, 3)]    // channels + grid not a multiple of 8: padded
    public void AugmentedKernelGivesTheEagerBlockOutput(int grid, int window, int dim, int heads)
    {
        using var scope = NewDisposeScope();
        manual_seed(grid * 1000 + window);
        using var block = new ImageEncoderBlock(dim, heads, 4.0, window, grid);
        using (no_grad())
            foreach (var p in block.parameters()) p.normal_(0, 0.2); // relative tables included (zeros at init)
        var x = randn(2, grid, grid, dim);
        using var noGrad = no_grad();
        block.Attention.Kernel = SamAttentionKernel.Eager;
        var eager = block.forward(x);
        block.Attention.Kernel = SamAttentionKernel.AugmentedScaledDotProduct;
        var fused = block.forward(x);
        TensorAssert.Close(eager, fused, 1e-5, "block output");
        // The second call reuses the cached key-position channels.
        TensorAssert.Close(eager, block.forward(x), 1e-5, "block output, second call");
    }

    [Fact]
    public void AugmentedKernelGivesTheEagerGradients()
    {
        // Training runs the image encoder through this kernel too.
        manual_seed(7);
        var grads = new List<Tensor[]>();
        using var scope = NewDisposeScope();
        using var block = new ImageEncoderBlock(64, 2, 4.0, 5, 10);
        using (no_grad())
            foreach (var p in block.parameters()) p.normal_(0, 0.2);
        var x = randn(1, 10, 10, 64);
        foreach (var kernel in new[] { SamAttentionKernel.Eager, SamAttentionKernel.AugmentedScaledDotProduct })
        {
            block.zero_grad();
            block.Attention.Kernel = kernel;
            block.forward(x).square().sum().backward();
            grads.Add(block.parameters().Select(p => p.grad!.clone()).ToArray());
        }
        for (int i = 0; i < grads[0].Length; i++) TensorAssert.Close(grads[0][i], grads[1][i], 1e-4, $"gradient {i}");
    }
}
