using TorchSharp;
using TorchSharp.Modules;
using ULlava.Perception.Model.Native;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Sam;

/// <summary>Mask-decoder attention (<c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>, <c>out_proj</c>) with the internal width divided by the downsample rate.</summary>
public sealed class TokenAttention : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly Linear q_proj;
    private readonly Linear k_proj;
    private readonly Linear v_proj;
    private readonly Linear out_proj;
    private readonly long numHeads;

    public TokenAttention(long embeddingDim, long numHeads, long downsampleRate = 1, Device? device = null) : base(nameof(TokenAttention))
    {
        long internalDim = embeddingDim / downsampleRate;
        if (internalDim % numHeads != 0) throw new ArgumentException($"{numHeads} heads must divide the internal width {internalDim}");
        this.numHeads = numHeads;
        q_proj = nn.Linear(embeddingDim, internalDim, device: device);
        k_proj = nn.Linear(embeddingDim, internalDim, device: device);
        v_proj = nn.Linear(embeddingDim, internalDim, device: device);
        out_proj = nn.Linear(internalDim, embeddingDim, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor q, Tensor k, Tensor v)
    {
        using var scope = NewDisposeScope();
        var qh = SeparateHeads(q_proj.forward(q));
        var kh = SeparateHeads(k_proj.forward(k));
        var vh = SeparateHeads(v_proj.forward(v));
        long cPerHead = qh.shape[3];
        // One kernel instead of matmul, scale, softmax, matmul: the decoder is launch-bound (≈ 200 small ops a mask).
        var o = nn.functional.scaled_dot_product_attention(qh, kh, vh);
        long b = o.shape[0], nTokens = o.shape[2];
        o = o.transpose(1, 2).reshape(b, nTokens, numHeads * cPerHead);
        return out_proj.forward(o).MoveToOuterDisposeScope();
    }

    private Tensor SeparateHeads(Tensor x)
    {
        long b = x.shape[0], n = x.shape[1], c = x.shape[2];
        return x.reshape(b, n, numHeads, c / numHeads).transpose(1, 2);
    }
}
