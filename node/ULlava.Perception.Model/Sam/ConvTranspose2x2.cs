using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Sam;

/// <summary>
/// SAM's 2×2, stride-2 transposed convolution (keys <c>weight</c> [in, out, 2, 2] and <c>bias</c> [out], initialised as
/// <c>nn.ConvTranspose2d</c>), computed as one GEMM and a pixel interleave: its 2×2 output blocks do not overlap, so
/// each is the input pixel times the weight. libtorch 2.10's CPU bf16 deconvolution is wrong by 15–37 % (and not
/// repeatable) when it has ≤ 8 output channels, as in small SAM decoders; the GEMM is exact in every dtype.
/// </summary>
public sealed class ConvTranspose2x2 : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;

    public ConvTranspose2x2(long inChannels, long outChannels, Device? device = null) : base(nameof(ConvTranspose2x2))
    {
        // The reference layer's own initialisation (and its draws from the generator, so seeded runs stay the same).
        using (var reference = nn.ConvTranspose2d(inChannels, outChannels, kernel_size: 2, stride: 2, device: device))
        using (no_grad())
        {
            weight = new Parameter(reference.weight!.detach().clone());
            bias = new Parameter(reference.bias!.detach().clone());
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3], o = weight.shape[1];
        // [b, h·w, c] × [c, o·2·2] → every input pixel's 2×2 block of o channels, then the blocks laid into the image.
        var pixels = x.flatten(2).transpose(1, 2);
        var blocks = matmul(pixels, weight.view(c, o * 4)).view(b, h, w, o, 2, 2);
        var y = blocks.permute(0, 3, 1, 4, 2, 5).reshape(b, o, 2 * h, 2 * w) + bias.view(1, o, 1, 1);
        return y.MoveToOuterDisposeScope();
    }
}
