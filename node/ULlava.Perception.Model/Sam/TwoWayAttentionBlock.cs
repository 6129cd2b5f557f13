using TorchSharp;
using TorchSharp.Modules;
using ULlava.Perception.Model.Native;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Sam;

/// <summary>
/// One two-way layer: token self-attention, tokens→image cross-attention, MLP, image→tokens cross-attention
/// (<c>self_attn</c>, <c>norm1</c>…<c>norm4</c>, <c>cross_attn_token_to_image</c>, <c>mlp</c>, <c>cross_attn_image_to_token</c>).
/// </summary>
public sealed class TwoWayAttentionBlock : nn.Module
{
    private readonly TokenAttention self_attn;
    private readonly LayerNorm norm1;
    private readonly TokenAttention cross_attn_token_to_image;
    private readonly LayerNorm norm2;
    private readonly MlpBlock mlp;
    private readonly LayerNorm norm3;
    private readonly LayerNorm norm4;
    private readonly TokenAttention cross_attn_image_to_token;
    private readonly bool skipFirstLayerPe;

    public TwoWayAttentionBlock(long embeddingDim, long numHeads, long mlpDim, long attentionDownsampleRate, bool skipFirstLayerPe,
        Device? device = null) : base(nameof(TwoWayAttentionBlock))
    {
        self_attn = new TokenAttention(embeddingDim, numHeads, 1, device);
        norm1 = nn.LayerNorm(embeddingDim, device: device);
        cross_attn_token_to_image = new TokenAttention(embeddingDim, numHeads, attentionDownsampleRate, device);
        norm2 = nn.LayerNorm(embeddingDim, device: device);
        mlp = new MlpBlock(embeddingDim, mlpDim, gelu: false, device: device);
        norm3 = nn.LayerNorm(embeddingDim, device: device);
        norm4 = nn.LayerNorm(embeddingDim, device: device);
        cross_attn_image_to_token = new TokenAttention(embeddingDim, numHeads, attentionDownsampleRate, device);
        this.skipFirstLayerPe = skipFirstLayerPe;
        RegisterComponents();
    }

    public (Tensor Queries, Tensor Keys) Forward(Tensor queries, Tensor keys, Tensor queryPe, Tensor keyPe)
    {
        using var scope = NewDisposeScope();
        if (skipFirstLayerPe)
        {
            queries = self_attn.forward(queries, queries, queries);
        }
        else
        {
            var q0 = queries.Plus(queryPe);
            queries = queries.Plus(self_attn.forward(q0, q0, queries));
        }
        queries = norm1.forward(queries);

        var q = queries.Plus(queryPe);
        var k = keys.Plus(keyPe);
        queries = norm2.forward(queries.Plus(cross_attn_token_to_image.forward(q, k, keys)));

        queries = norm3.forward(queries.Plus(mlp.forward(queries)));

        q = queries.Plus(queryPe);
        k = keys.Plus(keyPe);
        keys = norm4.forward(keys.Plus(cross_attn_image_to_token.forward(k, q, queries)));
        return (queries.MoveToOuterDisposeScope(), keys.MoveToOuterDisposeScope());
    }
}
