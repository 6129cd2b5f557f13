using TorchSharp;
using TorchSharp.Modules;
using ULlava.Perception.Model.Native;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Sam;

/// <summary>SAM's TwoWayTransformer: <c>layers</c>, then <c>final_attn_token_to_image</c> and <c>norm_final_attn</c>.</summary>
public sealed class TwoWayTransformer : nn.Module
{
    private readonly ModuleList<TwoWayAttentionBlock> layers;
    private readonly TokenAttention final_attn_token_to_image;
    private readonly LayerNorm norm_final_attn;

    public TwoWayTransformer(int depth, long embeddingDim, long numHeads, long mlpDim, long attentionDownsampleRate = 2, Device? device = null)
        : base(nameof(TwoWayTransformer))
    {
        layers = new ModuleList<TwoWayAttentionBlock>();
        for (int i = 0; i < depth; i++)
            layers.Add(new TwoWayAttentionBlock(embeddingDim, numHeads, mlpDim, attentionDownsampleRate, skipFirstLayerPe: i == 0, device));
        final_attn_token_to_image = new TokenAttention(embeddingDim, numHeads, attentionDownsampleRate, device);
        norm_final_attn = nn.LayerNorm(embeddingDim, device: device);
        RegisterComponents();
    }

    /// <summary>image B×C×h×w, its positional encoding, tokens B×N×C → (tokens B×N×C, image keys B×hw×C).</summary>
    public (Tensor Queries, Tensor Keys) Forward(Tensor imageEmbedding, Tensor imagePe, Tensor pointEmbedding)
    {
        using var scope = NewDisposeScope();
        var keys = imageEmbedding.flatten(2).permute(0, 2, 1);
        var keyPe = imagePe.flatten(2).permute(0, 2, 1);
        var queries = pointEmbedding;
        foreach (var layer in layers)
            (queries, keys) = layer.Forward(queries, keys, pointEmbedding, keyPe);
        var q = queries.Plus(pointEmbedding);
        var k = keys.Plus(keyPe);
        queries = norm_final_attn.forward(queries.Plus(final_attn_token_to_image.forward(q, k, keys)));
        return (queries.MoveToOuterDisposeScope(), keys.MoveToOuterDisposeScope());
    }
}
