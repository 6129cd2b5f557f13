using TorchSharp;
using TorchSharp.Modules;
using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Native;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Sam;

/// <summary>
/// SAM's PromptEncoder as shipped with u-LLaVA: points, boxes and masks as in Meta's, plus text embeddings
/// (the projected [SEG] hidden states) appended to the sparse prompts.
/// </summary>
public sealed class SamPromptEncoder : nn.Module
{
    // Held: an implicitly converted Scalar may be finalized while the op reads it (see Native/ScalarOps).
    private static readonly Scalar PixelCentre = 0.5.ToScalar();
    private static readonly Scalar PadLabel = (-1L).ToScalar();
    private static readonly Scalar PadLabelInt = (-1).ToScalar();
    private static readonly Scalar NegativeLabel = 0.ToScalar();
    private static readonly Scalar PositiveLabel = 1.ToScalar();

    private readonly PositionEmbeddingRandom pe_layer;
    private readonly ModuleList<Embedding> point_embeddings;
    private readonly Embedding not_a_point_embed;
    private readonly Sequential mask_downscaling;
    private readonly Embedding no_mask_embed;

    private readonly long embedDim;
    private readonly long imageSize;
    private readonly long embeddingSide;

    public SamPromptEncoder(SamConfig config, Device? device = null) : base(nameof(SamPromptEncoder))
    {
        embedDim = config.PromptEmbedDim;
        imageSize = config.ImageSize;
        embeddingSide = config.EmbeddingSide;
        pe_layer = new PositionEmbeddingRandom(embedDim / 2, device);
        // 0/1: negative/positive point, 2/3: box corners.
        point_embeddings = new ModuleList<Embedding>();
        for (int i = 0; i < 4; i++) point_embeddings.Add(nn.Embedding(1, embedDim, device: device));
        not_a_point_embed = nn.Embedding(1, embedDim, device: device);
        long maskIn = config.MaskInChans;
        mask_downscaling = nn.Sequential(
            nn.Conv2d(1, maskIn / 4, kernel_size: 2, stride: 2, device: device),
            new LayerNorm2d(maskIn / 4, device: device),
            nn.GELU(),
            nn.Conv2d(maskIn / 4, maskIn, kernel_size: 2, stride: 2, device: device),
            new LayerNorm2d(maskIn, device: device),
            nn.GELU(),
            nn.Conv2d(maskIn, embedDim, kernel_size: 1, device: device));
        no_mask_embed = nn.Embedding(1, embedDim, device: device);
        RegisterComponents();
    }

    /// <summary>Side of the low-resolution mask a mask prompt must have (4 × the embedding side).</summary>
    public long MaskInputSide => 4 * embeddingSide;

    /// <summary>Positional encoding of the image embedding grid, 1×C×side×side.</summary>
    public Tensor GetDensePe()
    {
        using var scope = NewDisposeScope();
        return pe_layer.forward(embeddingSide, embeddingSide).unsqueeze(0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Sparse (B×N×C) and dense (B×C×side×side) prompt embeddings. Coordinates are in the padded input frame
    /// (after <see cref="SamTransforms.ApplyCoords"/>). Points: B×N×2 with labels B×N (1 positive, 0 negative,
    /// -1 padding); boxes: B×4 xyxy; masks: B×1×4side×4side logits; textEmbeds: B×T×C.
    /// </summary>
    public (Tensor Sparse, Tensor Dense) Forward(Tensor? pointCoords = null, Tensor? pointLabels = null,
        Tensor? boxes = null, Tensor? masks = null, Tensor? textEmbeds = null)
    {
        if ((pointCoords is null) != (pointLabels is null))
            throw new ArgumentException("point coordinates and labels come together");
        using var scope = NewDisposeScope();
        long bs = pointCoords?.shape[0] ?? boxes?.shape[0] ?? masks?.shape[0] ?? textEmbeds?.shape[0] ?? 1;
        var device = no_mask_embed.weight!.device;
        var sparse = empty(bs, 0, embedDim, device: device);
        if (pointCoords is not null && pointLabels is not null)
            sparse = cat(new[] { sparse, EmbedPoints(pointCoords, pointLabels, pad: boxes is null) }, 1);
        if (boxes is not null)
            sparse = cat(new[] { sparse, EmbedBoxes(boxes) }, 1);
        if (textEmbeds is not null)
            sparse = cat(new[] { sparse, textEmbeds.to_type(sparse.dtype) }, 1);
        var dense = masks is not null
            ? mask_downscaling.forward(masks)
            : no_mask_embed.weight!.reshape(1, -1, 1, 1).expand(bs, -1, embeddingSide, embeddingSide);
        return (sparse.MoveToOuterDisposeScope(), dense.MoveToOuterDisposeScope());
    }

    private Tensor EmbedPoints(Tensor points, Tensor labels, bool pad)
    {
        points = points.to_type(ScalarType.Float32).Plus(PixelCentre); // centre of the pixel
        labels = labels.to_type(ScalarType.Int64);
        if (pad)
        {
            points = cat(new[] { points, zeros(points.shape[0], 1, 2, device: points.device) }, 1);
            labels = cat(new[] { labels, full(labels.shape[0], 1, PadLabel, dtype: ScalarType.Int64, device: labels.device) }, 1);
        }
        var embedding = pe_layer.ForwardWithCoords(points, imageSize, imageSize);
        var l = labels.unsqueeze(-1);
        // Padding points carry only not_a_point_embed; real points add their label's embedding to the encoding.
        embedding = where(l == PadLabelInt, not_a_point_embed.weight!, embedding);
        embedding = embedding.Plus((l == NegativeLabel).to_type(embedding.dtype) * point_embeddings[0].weight!);
        embedding = embedding.Plus((l == PositiveLabel).to_type(embedding.dtype) * point_embeddings[1].weight!);
        return embedding;
    }

    private Tensor EmbedBoxes(Tensor boxes)
    {
        var coords = boxes.to_type(ScalarType.Float32).Plus(PixelCentre).reshape(-1, 2, 2);
        var corners = pe_layer.ForwardWithCoords(coords, imageSize, imageSize);
        var cornerEmbeds = cat(new[] { point_embeddings[2].weight!, point_embeddings[3].weight! }, 0); // 2×C
        return corners.Plus(cornerEmbeds.unsqueeze(0));
    }
}
