using TorchSharp;
using TorchSharp.Modules;
using ULlava.Perception.Model.Native;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Sam;

/// <summary>
/// Image-encoder multi-head attention (<c>qkv</c>, <c>proj</c>) with decomposed relative positions
/// (<c>rel_pos_h</c>, <c>rel_pos_w</c>) over a B×H×W×C grid, as in Meta's ImageEncoderViT.
/// </summary>
public sealed class RelPosAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear qkv;
    private readonly Linear proj;
    private readonly Parameter? rel_pos_h;
    private readonly Parameter? rel_pos_w;
    private readonly long numHeads;
    private readonly double scale;

    /// <param name="inputSize">grid side the relative tables are sized for (window size, or the full grid for global blocks)</param>
    public RelPosAttention(long dim, long numHeads, bool qkvBias, bool useRelPos, long inputSize, Device? device = null)
        : base(nameof(RelPosAttention))
    {
        this.numHeads = numHeads;
        long headDim = dim / numHeads;
        scale = Math.Pow(headDim, -0.5);
        qkv = nn.Linear(dim, dim * 3, hasBias: qkvBias, device: device);
        proj = nn.Linear(dim, dim, device: device);
        if (useRelPos)
        {
            rel_pos_h = new Parameter(zeros(2 * inputSize - 1, headDim, device: device));
            rel_pos_w = new Parameter(zeros(2 * inputSize - 1, headDim, device: device));
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], h = x.shape[1], w = x.shape[2];
        // qkv: 3 × (B·heads) × HW × headDim
        var qkvOut = qkv.forward(x).reshape(b, h * w, 3, numHeads, -1).permute(2, 0, 3, 1, 4);
        var parts = qkvOut.reshape(3, b * numHeads, h * w, -1).unbind(0);
        Tensor q = parts[0], k = parts[1], v = parts[2];
        Tensor y;
        if (rel_pos_h is not null && rel_pos_w is not null && Kernel == SamAttentionKernel.AugmentedScaledDotProduct)
        {
            y = AugmentedAttention(q, k, v, rel_pos_h, rel_pos_w, h, w);
        }
        else
        {
            using var scaleS = scale.ToScalar();
            var attn = matmul(q * scaleS, k.transpose(-2, -1));
            if (rel_pos_h is not null && rel_pos_w is not null)
                attn = AddDecomposedRelPos(attn, q, RelPos(h, rel_pos_h), RelPos(w, rel_pos_w), h, w);
            y = matmul(attn.softmax(-1), v);
        }
        y = y.view(b, numHeads, h, w, -1).permute(0, 2, 3, 1, 4).reshape(b, h, w, -1);
        return proj.forward(y).MoveToOuterDisposeScope();
    }

    /// <summary>How the attention is computed; the engine sets it (the default is the fused kernel).</summary>
    public SamAttentionKernel Kernel { get; set; } = SamAttentionKernel.AugmentedScaledDotProduct;

    /// <summary>
    /// The same attention as the eager path through one fused SDPA kernel (flash attention on CUDA), which takes no bias.
    /// The decomposed relative term is itself a dot product, so it rides along in extra channels: for the query at
    /// (y, x) and the key at (ky, kx), q'·k' = scale·q·k + relH[y,x,ky] + relW[y,x,kx] when q' = [scale·q, relH, relW]
    /// and k' = [k, onehot(ky), onehot(kx)]. Channels are padded to a multiple of 8 (the kernels' alignment) and v to the
    /// same width (flash needs equal widths); SDPA's own 1/sqrt(width) is undone by scaling q' up front.
    /// </summary>
    private Tensor AugmentedAttention(Tensor q, Tensor k, Tensor v, Tensor relPosH, Tensor relPosW, long h, long w)
    {
        long bn = q.shape[0], n = h * w, d = q.shape[2];
        long width = (d + h + w + 7) / 8 * 8;
        double undoSdpaScale = Math.Sqrt(width);
        using var qScale = (scale * undoSdpaScale).ToScalar();
        using var tableScale = undoSdpaScale.ToScalar();
        var rq = q.view(bn, h, w, d);
        var relH = einsum("bhwc,hkc->bhwk", rq, RelPos(h, relPosH) * tableScale).reshape(bn, n, h);
        var relW = einsum("bhwc,wkc->bhwk", rq, RelPos(w, relPosW) * tableScale).reshape(bn, n, w);
        var parts = new List<Tensor> { q * qScale, relH, relW };
        if (width > d + h + w) parts.Add(zeros(new[] { 1L, 1, width - d - h - w }, q.dtype, q.device).expand(bn, n, -1));
        var qAug = cat(parts.ToArray(), -1);
        var kAug = cat(new[] { k, KeyPositions(h, w, width - d, k.dtype, k.device).expand(bn, n, -1) }, -1);
        var vAug = nn.functional.pad(v, new long[] { 0, width - d });
        long heads = numHeads, b = bn / heads;
        var y = nn.functional.scaled_dot_product_attention(qAug.view(b, heads, n, width), kAug.view(b, heads, n, width),
            vAug.view(b, heads, n, width));
        return y.narrow(-1, 0, d);
    }

    // The keys' extra channels [1, h·w, channels]: one-hot of the key's row, then of its column, then zeros. A constant of
    // the grid; kept (one per module: windowed blocks always see the same window) so it is built once, not every frame.
    private Tensor KeyPositions(long h, long w, long channels, ScalarType dtype, Device device)
    {
        if (_keyPositions is { } cached && cached.shape[1] == h * w && cached.shape[2] == channels && cached.dtype == dtype
            && cached.device == device)
            return cached;
        _keyPositions?.Dispose();
        using var scope = NewDisposeScope();
        var rows = arange(h, device: device).repeat_interleave(w);
        var cols = arange(w, device: device).repeat(h);
        var table = cat(new[]
        {
            nn.functional.one_hot(rows, h), nn.functional.one_hot(cols, w),
            zeros(new[] { h * w, channels - h - w }, ScalarType.Int64, device),
        }, -1);
        _keyPositions = table.to_type(dtype).unsqueeze(0).DetachFromDisposeScope();
        return _keyPositions;
    }

    private Tensor? _keyPositions;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _keyPositions?.Dispose();
            _keyPositions = null;
            foreach (var index in _relativeIndex.Values) index.Dispose();
            _relativeIndex.Clear();
        }
        base.Dispose(disposing);
    }

    // The relative-distance index of each (query, key) row pair is a constant of the grid: built once per module and size
    // (seven small kernels a block otherwise, on every frame); the table lookup itself stays per call, as tables train.
    private readonly Dictionary<(long Size, string Device), Tensor> _relativeIndex = new();

    /// <summary>The relative table for a size × size grid side: <see cref="GetRelPos"/> with its index cached.</summary>
    private Tensor RelPos(long size, Tensor relPos)
    {
        long maxRelDist = 2 * size - 1;
        if (relPos.shape[0] != maxRelDist) return GetRelPos(size, size, relPos);
        var key = (size, relPos.device.ToString());
        if (!_relativeIndex.TryGetValue(key, out var index))
        {
            using var scope = NewDisposeScope();
            index = RelativeIndex(size, size, relPos.device).DetachFromDisposeScope();
            _relativeIndex[key] = index;
        }
        return relPos.index_select(0, index).view(size, size, -1);
    }

    /// <summary>Relative positional table for q_size × k_size, linearly resampled when the stored table length differs.</summary>
    internal static Tensor GetRelPos(long qSize, long kSize, Tensor relPos)
    {
        long maxRelDist = 2 * Math.Max(qSize, kSize) - 1;
        var table = relPos;
        if (relPos.shape[0] != maxRelDist)
        {
            table = nn.functional.interpolate(relPos.reshape(1, relPos.shape[0], -1).permute(0, 2, 1),
                    size: new[] { maxRelDist }, mode: InterpolationMode.Linear)
                .reshape(-1, maxRelDist).permute(1, 0);
        }
        return table.index_select(0, RelativeIndex(qSize, kSize, relPos.device)).view(qSize, kSize, -1);
    }

    // Meta's get_rel_pos index: (q·qScale - k·kScale) + (k_size - 1)·kScale for every (q, k), flattened.
    private static Tensor RelativeIndex(long qSize, long kSize, Device device)
    {
        double qScale = Math.Max((double)kSize / qSize, 1.0);
        double kScale = Math.Max((double)qSize / kSize, 1.0);
        using var qSizeS = qSize.ToScalar();
        using var kSizeS = kSize.ToScalar();
        using var qScaleS = qScale.ToScalar();
        using var kScaleS = kScale.ToScalar();
        using var offsetS = ((kSize - 1) * kScale).ToScalar();
        var qCoords = arange(ScalarOps.Zero, qSizeS, ScalarOps.One, dtype: ScalarType.Float32, device: device).unsqueeze(1) * qScaleS;
        var kCoords = arange(ScalarOps.Zero, kSizeS, ScalarOps.One, dtype: ScalarType.Float32, device: device).unsqueeze(0) * kScaleS;
        return (qCoords - kCoords).Plus(offsetS).to_type(ScalarType.Int64).flatten();
    }

    /// <summary>Adds q's decomposed relative terms with the tables rh [h,h,C] and rw [w,w,C] to attn [B, hw, hw].</summary>
    internal static Tensor AddDecomposedRelPos(Tensor attn, Tensor q, Tensor rh, Tensor rw, long h, long w)
    {
        long b = q.shape[0], dim = q.shape[2];
        var rq = q.reshape(b, h, w, dim);
        var relH = einsum("bhwc,hkc->bhwk", rq, rh);
        var relW = einsum("bhwc,wkc->bhwk", rq, rw);
        return attn.view(b, h, w, h, w).Plus(relH.unsqueeze(-1)).Plus(relW.unsqueeze(-2)).view(b, h * w, h * w);
    }
}
