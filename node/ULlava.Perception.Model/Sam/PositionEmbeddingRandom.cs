using TorchSharp;
using ULlava.Perception.Model.Native;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Sam;

/// <summary>Random Fourier-feature positional encoding (buffer <c>positional_encoding_gaussian_matrix</c>, 2×C/2).</summary>
public sealed class PositionEmbeddingRandom : nn.Module<long, long, Tensor>
{
    // Held: an implicitly converted Scalar may be finalized while the op reads it (see Native/ScalarOps).
    private static readonly Scalar Two = 2.ToScalar();
    private static readonly Scalar TwoPi = (2 * Math.PI).ToScalar();
    private static readonly Scalar Half = 0.5.ToScalar();

    private readonly Tensor positional_encoding_gaussian_matrix;

    public PositionEmbeddingRandom(long numPosFeats, Device? device = null) : base(nameof(PositionEmbeddingRandom))
    {
        // Filled from the checkpoint; randn only gives an untrained model the same distribution as Meta's.
        positional_encoding_gaussian_matrix = randn(2, numPosFeats, device: device);
        RegisterComponents();
    }

    /// <summary>Encodes coordinates normalised to [0,1] (…×2, x then y) into …×C.</summary>
    public Tensor EncodeNormalised(Tensor coords)
    {
        using var scope = NewDisposeScope();
        var c = coords * Two - ScalarOps.One;
        c = matmul(c, positional_encoding_gaussian_matrix);
        c = c * TwoPi;
        return cat(new[] { c.sin(), c.cos() }, -1).MoveToOuterDisposeScope();
    }

    /// <summary>Dense encoding of an h×w grid of cell centres, C×h×w.</summary>
    public override Tensor forward(long h, long w)
    {
        using var scope = NewDisposeScope();
        var grid = ones(h, w, dtype: positional_encoding_gaussian_matrix.dtype, device: positional_encoding_gaussian_matrix.device);
        using var hS = h.ToScalar();
        using var wS = w.ToScalar();
        var yEmbed = (grid.cumsum(0) - Half) / hS;
        var xEmbed = (grid.cumsum(1) - Half) / wS;
        var pe = EncodeNormalised(stack(new[] { xEmbed, yEmbed }, -1));
        return pe.permute(2, 0, 1).MoveToOuterDisposeScope();
    }

    /// <summary>Encodes B×N×2 pixel coordinates of an image of the given size (h, w).</summary>
    public Tensor ForwardWithCoords(Tensor coords, long imageH, long imageW)
    {
        using var scope = NewDisposeScope();
        using var imageWS = imageW.ToScalar();
        using var imageHS = imageH.ToScalar();
        var x = coords[.., .., 0] / imageWS;
        var y = coords[.., .., 1] / imageHS;
        return EncodeNormalised(stack(new[] { x, y }, -1).to_type(ScalarType.Float32)).MoveToOuterDisposeScope();
    }
}
