using TorchSharp;
using TorchSharp.Modules;
using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Native;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Sam;

/// <summary>
/// SAM's MaskDecoder: <c>transformer</c>, <c>iou_token</c>, <c>mask_tokens</c>, <c>output_upscaling</c>,
/// <c>output_hypernetworks_mlps</c>, <c>iou_prediction_head</c>.
/// </summary>
public sealed class SamMaskDecoder : nn.Module
{
    private readonly TwoWayTransformer transformer;
    private readonly Embedding iou_token;
    private readonly Embedding mask_tokens;
    private readonly Sequential output_upscaling;
    private readonly ModuleList<SamMlp> output_hypernetworks_mlps;
    private readonly SamMlp iou_prediction_head;
    private readonly int numMaskTokens;

    public SamMaskDecoder(SamConfig config, Device? device = null) : base(nameof(SamMaskDecoder))
    {
        long dim = config.PromptEmbedDim;
        transformer = new TwoWayTransformer(config.DecoderDepth, dim, config.DecoderNumHeads, config.DecoderMlpDim, 2, device);
        numMaskTokens = config.NumMultimaskOutputs + 1;
        iou_token = nn.Embedding(1, dim, device: device);
        mask_tokens = nn.Embedding(numMaskTokens, dim, device: device);
        output_upscaling = nn.Sequential(
            new ConvTranspose2x2(dim, dim / 4, device),
            new LayerNorm2d(dim / 4, device: device),
            nn.GELU(),
            new ConvTranspose2x2(dim / 4, dim / 8, device),
            nn.GELU());
        output_hypernetworks_mlps = new ModuleList<SamMlp>();
        for (int i = 0; i < numMaskTokens; i++)
            output_hypernetworks_mlps.Add(new SamMlp(dim, dim, dim / 8, 3, device: device));
        iou_prediction_head = new SamMlp(dim, config.IouHeadHiddenDim, numMaskTokens, config.IouHeadDepth, device: device);
        RegisterComponents();
    }

    /// <summary>
    /// Low-resolution mask logits B×M×4h×4w and IoU predictions B×M; M is 1 (the first mask token) unless
    /// <paramref name="multimaskOutput"/>, then the other <c>num_multimask_outputs</c>. One batch entry per prompt set;
    /// a single image embedding is repeated across them. <paramref name="detachIouToken"/>: the IoU head reads its token
    /// without a graph behind it, so training the quality head alone sends nothing back to the prompts (training only).
    /// </summary>
    public (Tensor Masks, Tensor IouPred) Forward(Tensor imageEmbeddings, Tensor imagePe, Tensor sparsePromptEmbeddings,
        Tensor densePromptEmbeddings, bool multimaskOutput, bool detachIouToken = false)
    {
        using var scope = NewDisposeScope();
        var (masks, iouPred) = PredictMasks(imageEmbeddings, imagePe, sparsePromptEmbeddings, densePromptEmbeddings, detachIouToken);
        var slice = multimaskOutput ? 1.. : ..1;
        var m = masks[.., slice, .., ..];
        var iou = iouPred[.., slice];
        return (m.MoveToOuterDisposeScope(), iou.MoveToOuterDisposeScope());
    }

    private (Tensor Masks, Tensor IouPred) PredictMasks(Tensor imageEmbeddings, Tensor imagePe, Tensor sparse, Tensor dense, bool detachIouToken)
    {
        long nPrompts = sparse.shape[0];
        var outputTokens = cat(new[] { iou_token.weight!, mask_tokens.weight! }, 0).unsqueeze(0).expand(nPrompts, -1, -1);
        var tokens = cat(new[] { outputTokens, sparse.to_type(outputTokens.dtype) }, 1);

        var src = imageEmbeddings.shape[0] == nPrompts ? imageEmbeddings : imageEmbeddings.repeat_interleave(nPrompts, dim: 0);
        src = src.Plus(dense);
        var posSrc = imagePe.repeat_interleave(nPrompts, dim: 0);
        long b = src.shape[0], c = src.shape[1], h = src.shape[2], w = src.shape[3];

        var (hs, keys) = transformer.Forward(src, posSrc, tokens);
        var iouTokenOut = hs[.., 0, ..];
        var maskTokensOut = hs[.., 1..(1 + numMaskTokens), ..];

        var upscaled = output_upscaling.forward(keys.transpose(1, 2).reshape(b, c, h, w));
        var hyperIn = stack(Enumerable.Range(0, numMaskTokens)
            .Select(i => output_hypernetworks_mlps[i].forward(maskTokensOut[.., i, ..])).ToArray(), 1);
        long ub = upscaled.shape[0], uc = upscaled.shape[1], uh = upscaled.shape[2], uw = upscaled.shape[3];
        var masks = matmul(hyperIn, upscaled.view(ub, uc, uh * uw)).view(ub, -1, uh, uw);
        var iouPred = iou_prediction_head.forward(detachIouToken ? iouTokenOut.detach() : iouTokenOut);
        return (masks, iouPred);
    }
}
