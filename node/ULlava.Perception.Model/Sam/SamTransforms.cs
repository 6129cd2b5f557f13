using TorchSharp;
using ULlava.Perception.Model.Config;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Sam;

/// <summary>
/// SAM's image and prompt geometry: Meta's ResizeLongestSide, normalise-and-pad preprocessing and mask
/// postprocessing. Images are RGB uint8 H×W×3 tensors.
/// </summary>
public static class SamTransforms
{
    /// <summary>Size after scaling the longest side to <paramref name="longSide"/>, rounded like Meta's <c>int(x + 0.5)</c>.</summary>
    public static (int Height, int Width) GetPreprocessShape(int oldH, int oldW, int longSide)
    {
        if (oldH <= 0 || oldW <= 0) throw new ArgumentException($"image size {oldH}×{oldW} is empty");
        double scale = longSide * 1.0 / Math.Max(oldH, oldW);
        return ((int)(oldH * scale + 0.5), (int)(oldW * scale + 0.5));
    }

    /// <summary>
    /// Resizes an RGB uint8 H×W×3 image so its longest side is <paramref name="longSide"/>: bilinear with
    /// antialiasing on uint8, which rounds like PIL's bilinear resize the reference used.
    /// </summary>
    public static Tensor ResizeLongestSide(Tensor rgbU8, int longSide)
    {
        CheckImage(rgbU8);
        var (h, w) = GetPreprocessShape((int)rgbU8.shape[0], (int)rgbU8.shape[1], longSide);
        using var scope = NewDisposeScope();
        var nchw = rgbU8.permute(2, 0, 1).unsqueeze(0).contiguous();
        Tensor resized;
        if (rgbU8.device.type == DeviceType.CPU)
        {
            resized = nn.functional.interpolate(nchw, size: new long[] { h, w }, mode: InterpolationMode.Bilinear,
                align_corners: false, antialias: true);
        }
        else
        {
            // The antialiased uint8 kernel is CPU-only: on a GPU resize in float32 and round back to bytes (pixels can
            // differ from the CPU path by one level), which keeps a 640×480 → 1024 resize off the CPU.
            resized = nn.functional.interpolate(nchw.to_type(ScalarType.Float32), size: new long[] { h, w }, mode: InterpolationMode.Bilinear,
                align_corners: false, antialias: true).round_().clamp_(0, 255).to_type(ScalarType.Byte);
        }
        return resized[0].permute(1, 2, 0).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Maps …×2 (x, y) pixel coordinates of the original image into the resized frame.</summary>
    public static Tensor ApplyCoords(Tensor coords, int originalH, int originalW, int longSide)
    {
        var (newH, newW) = GetPreprocessShape(originalH, originalW, longSide);
        using var scope = NewDisposeScope();
        var c = coords.to_type(ScalarType.Float32);
        var scaleXy = tensor(new[] { newW / (float)originalW, newH / (float)originalH }, device: c.device);
        return (c * scaleXy).MoveToOuterDisposeScope();
    }

    /// <summary>Maps …×4 xyxy boxes of the original image into the resized frame.</summary>
    public static Tensor ApplyBoxes(Tensor boxes, int originalH, int originalW, int longSide)
    {
        using var scope = NewDisposeScope();
        var corners = ApplyCoords(boxes.reshape(-1, 2, 2), originalH, originalW, longSide);
        return corners.reshape(-1, 4).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Normalises a resized RGB uint8 H×W×3 image with the config's pixel mean/std (0–255 scale) and pads it with
    /// zeros at the bottom and right to 1×3×S×S.
    /// </summary>
    public static Tensor NormalizeAndPad(Tensor resizedU8, SamConfig config)
    {
        CheckImage(resizedU8);
        long h = resizedU8.shape[0], w = resizedU8.shape[1], s = config.ImageSize;
        if (h > s || w > s) throw new ArgumentException($"resized image {h}×{w} exceeds the SAM input side {s}");
        using var scope = NewDisposeScope();
        var x = resizedU8.permute(2, 0, 1).unsqueeze(0).to_type(ScalarType.Float32);
        var mean = tensor(config.PixelMean, device: x.device).view(1, 3, 1, 1);
        var std = tensor(config.PixelStd, device: x.device).view(1, 3, 1, 1);
        x = (x - mean) / std;
        x = nn.functional.pad(x, new long[] { 0, s - w, 0, s - h });
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Low-resolution mask logits B×M×h×w → B×M×originalH×originalW: upsampled to the input side, cropped to the
    /// resized image, then resized to the original frame (bilinear, as Meta's postprocess_masks). Those three steps are
    /// linear and act on rows and columns apart, so they run as two small matrix products with the composed operators
    /// (<see cref="ResizeOperator"/>): on the 2-core CPU 80×80 → 480×640 took 2.1–3.1 ms through the two full-size
    /// interpolations, <see cref="PostprocessMasksByInterpolation"/> (kept as the reference this is tested against).
    /// </summary>
    public static Tensor PostprocessMasks(Tensor lowResMasks, int inputH, int inputW, int originalH, int originalW, int imageSize)
    {
        using var scope = NewDisposeScope();
        var low = lowResMasks.to_type(ScalarType.Float32);
        var rows = ResizeOperator(low.shape[^2], imageSize, inputH, originalH, low.device);
        var columns = ResizeOperator(low.shape[^1], imageSize, inputW, originalW, low.device);
        var m = matmul(matmul(rows, low), columns.t());
        return m.to_type(lowResMasks.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>Meta's postprocess_masks step by step: two bilinear interpolations and a crop.</summary>
    public static Tensor PostprocessMasksByInterpolation(Tensor lowResMasks, int inputH, int inputW, int originalH, int originalW, int imageSize)
    {
        using var scope = NewDisposeScope();
        var m = nn.functional.interpolate(lowResMasks, size: new long[] { imageSize, imageSize }, mode: InterpolationMode.Bilinear, align_corners: false);
        m = m[.., .., ..inputH, ..inputW];
        m = nn.functional.interpolate(m, size: new long[] { originalH, originalW }, mode: InterpolationMode.Bilinear, align_corners: false);
        return m.MoveToOuterDisposeScope();
    }

    private static readonly object OperatorsLock = new();
    private static readonly Dictionary<(long, int, int, int, string), Tensor> Operators = new();

    /// <summary>
    /// The float32 matrix [outputLength, lowLength] of postprocessing along one axis: bilinear lowLength → imageSize, keep
    /// the first <paramref name="inputLength"/>, bilinear → <paramref name="outputLength"/>. Built by running libtorch's own
    /// interpolation on the identity (each basis vector a channel), so its coefficients are exactly libtorch's; kept per
    /// shape and device (a stream has one frame size).
    /// </summary>
    public static Tensor ResizeOperator(long lowLength, int imageSize, int inputLength, int outputLength, Device device)
    {
        var key = (lowLength, imageSize, inputLength, outputLength, device.ToString());
        lock (OperatorsLock)
        {
            if (!Operators.TryGetValue(key, out var op)) Operators[key] = op = BuildResizeOperator(lowLength, imageSize, inputLength, outputLength, device);
            return op.alias(); // the caller's to dispose; the cached tensor stays
        }
    }

    private static Tensor BuildResizeOperator(long lowLength, int imageSize, int inputLength, int outputLength, Device device)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // N=1, C=lowLength basis vectors, H=lowLength, W=1: a bilinear resize of H alone (W 1 → 1 is the identity).
        var basis = eye(lowLength, dtype: ScalarType.Float32, device: device).view(1, lowLength, lowLength, 1);
        var up = nn.functional.interpolate(basis, size: new long[] { imageSize, 1 }, mode: InterpolationMode.Bilinear, align_corners: false);
        up = up[.., .., ..inputLength, ..];
        var down = nn.functional.interpolate(up, size: new long[] { outputLength, 1 }, mode: InterpolationMode.Bilinear, align_corners: false);
        return down.view(lowLength, outputLength).t().contiguous().DetachFromDisposeScope();
    }

    private static void CheckImage(Tensor rgbU8)
    {
        if (rgbU8.dtype != ScalarType.Byte || rgbU8.dim() != 3 || rgbU8.shape[2] != 3)
            throw new ArgumentException($"expected an RGB uint8 H×W×3 image, got {rgbU8.dtype} [{string.Join(",", rgbU8.shape)}]");
    }
}
