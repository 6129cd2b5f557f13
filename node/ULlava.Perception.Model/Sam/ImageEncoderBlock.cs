using TorchSharp;
using TorchSharp.Modules;
using ULlava.Perception.Model.Native;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Sam;

/// <summary>One ViT block of SAM's image encoder (<c>norm1</c>, <c>attn</c>, <c>norm2</c>, <c>mlp</c>), windowed unless window size is 0.</summary>
public sealed class ImageEncoderBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1;
    private readonly RelPosAttention attn;
    private readonly LayerNorm norm2;
    private readonly MlpBlock mlp;
    private readonly long windowSize;

    /// <param name="windowSize">0 for global attention over the whole grid</param>
    /// <param name="gridSize">patch grid side (image size / patch size)</param>
    public ImageEncoderBlock(long dim, long numHeads, double mlpRatio, long windowSize, long gridSize, Device? device = null)
        : base(nameof(ImageEncoderBlock))
    {
        norm1 = nn.LayerNorm(dim, eps: 1e-6, device: device);
        attn = new RelPosAttention(dim, numHeads, qkvBias: true, useRelPos: true,
            inputSize: windowSize == 0 ? gridSize : windowSize, device: device);
        norm2 = nn.LayerNorm(dim, eps: 1e-6, device: device);
        mlp = new MlpBlock(dim, (long)(dim * mlpRatio), gelu: true, device: device);
        this.windowSize = windowSize;
        RegisterComponents();
    }

    public RelPosAttention Attention => attn;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var shortcut = x;
        var y = norm1.forward(x);
        if (windowSize > 0)
        {
            long h = y.shape[1], w = y.shape[2];
            var (windows, hp, wp) = WindowPartition(y, windowSize);
            y = WindowUnpartition(attn.forward(windows), windowSize, hp, wp, h, w);
        }
        else
        {
            y = attn.forward(y);
        }
        y = shortcut.Plus(y);
        y = y.Plus(mlp.forward(norm2.forward(y)));
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Pads B×H×W×C bottom/right to a multiple of the window and cuts it into (B·nW)×win×win×C windows.</summary>
    internal static (Tensor Windows, long Hp, long Wp) WindowPartition(Tensor x, long win)
    {
        long b = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3];
        long padH = (win - h % win) % win, padW = (win - w % win) % win;
        if (padH > 0 || padW > 0) x = nn.functional.pad(x, new long[] { 0, 0, 0, padW, 0, padH });
        long hp = h + padH, wp = w + padW;
        var windows = x.view(b, hp / win, win, wp / win, win, c).permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, win, win, c);
        return (windows, hp, wp);
    }

    /// <summary>Reassembles windows into B×Hp×Wp×C and drops the padding.</summary>
    internal static Tensor WindowUnpartition(Tensor windows, long win, long hp, long wp, long h, long w)
    {
        long b = windows.shape[0] / (hp * wp / win / win);
        var x = windows.view(b, hp / win, wp / win, win, win, -1).permute(0, 1, 3, 2, 4, 5).contiguous().view(b, hp, wp, -1);
        if (hp > h || wp > w) x = x[.., ..(int)h, ..(int)w, ..].contiguous();
        return x;
    }
}
