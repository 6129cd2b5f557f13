using System.Text.Json;
using TorchSharp;
using ULlava.Perception.Model.Config;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Clip;

/// <summary>
/// Hugging Face <c>CLIPImageProcessor</c> (the PIL path) behind u-LLaVA's white pad to square:
/// pad → shortest edge to 224 with PIL's antialiased bicubic → centre crop → rescale → normalise.
/// Input is RGB uint8, HWC, as the node hands frames over; output is float32 [B, 3, crop, crop].
/// </summary>
public sealed class ClipImageProcessor
{
    private readonly ClipImageProcessorConfig _config;

    public ClipImageProcessor(ClipImageProcessorConfig config, bool padToSquare = true)
    {
        if (config.Resample != 3)
            throw new NotSupportedException($"resample {config.Resample}: only PIL bicubic (3) is implemented");
        if (config.ImageMean.Length != 3 || config.ImageStd.Length != 3)
            throw new ArgumentException("image_mean and image_std need one value per RGB channel", nameof(config));
        _config = config;
        PadToSquare = padToSquare;
    }

    /// <summary>Reads preprocessor_config.json.</summary>
    public static ClipImageProcessor Load(string path, bool padToSquare = true)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"CLIP preprocessor config not found: {path}", path);
        var config = JsonSerializer.Deserialize<ClipImageProcessorConfig>(File.ReadAllText(path), ULlavaConfig.JsonOptions)
                     ?? throw new InvalidDataException($"{path}: empty preprocessor config");
        return new ClipImageProcessor(config, padToSquare);
    }

    public ClipImageProcessorConfig Config => _config;

    /// <summary>u-LLaVA's <c>aspect_ratio: pad</c> (expand2square with white) before the CLIP processor.</summary>
    public bool PadToSquare { get; }

    /// <summary>One RGB image, uint8 [H, W, 3] → [1, 3, crop, crop] float32.</summary>
    public Tensor Preprocess(Tensor imageHwc)
    {
        CheckHwc(imageHwc, 3, nameof(imageHwc));
        using var scope = NewDisposeScope();
        var image = PadToSquare ? ExpandToSquare(imageHwc) : imageHwc;
        var chw = image.permute(2, 0, 1).unsqueeze(0);
        if (_config.DoResize) chw = ResizeShortestEdge(chw, _config.Size.ShortestEdge);
        if (_config.DoCenterCrop) chw = CenterCrop(chw, _config.CropSize.Height, _config.CropSize.Width);
        return RescaleNormalize(chw).MoveToOuterDisposeScope();
    }

    /// <summary>One RGB image as packed bytes (row-major, 3 bytes a pixel) → [1, 3, crop, crop] float32.</summary>
    public Tensor Preprocess(byte[] rgb, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(rgb);
        if (width <= 0 || height <= 0 || rgb.Length != checked(width * height * 3))
            throw new ArgumentException($"expected {width}×{height}×3 = {(long)width * height * 3} bytes, got {rgb.Length}", nameof(rgb));
        using var image = tensor(rgb, new long[] { height, width, 3 }, ScalarType.Byte);
        return Preprocess(image);
    }

    /// <summary>
    /// Video frames, uint8 [T, H, W, 3] → [T, 3, crop, crop] float32. Like u-LLaVA's video_eval processor,
    /// which has decord decode each frame straight at crop×crop: frames are stretched (no pad, no crop),
    /// here with the same antialiased bicubic as images; frames already at crop size are not resampled.
    /// </summary>
    public Tensor PreprocessVideo(Tensor framesThwc)
    {
        CheckHwc(framesThwc, 4, nameof(framesThwc));
        using var scope = NewDisposeScope();
        var chw = framesThwc.permute(0, 3, 1, 2);
        int h = _config.CropSize.Height, w = _config.CropSize.Width;
        if (chw.shape[2] != h || chw.shape[3] != w) chw = ResizeU8(chw, h, w);
        return RescaleNormalize(chw).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// u-LLaVA's expand2square: a white (255) square of the longer side with the image pasted at
    /// offset (long − short) / 2, rounded down, so an odd remainder goes below / right of it.
    /// </summary>
    public static Tensor ExpandToSquare(Tensor imageHwc, byte fill = 255)
    {
        CheckHwc(imageHwc, 3, nameof(imageHwc));
        long h = imageHwc.shape[0], w = imageHwc.shape[1];
        if (h == w) return imageHwc.alias();
        long side = Math.Max(h, w);
        using var fillValue = fill.ToScalar();
        var canvas = full(new long[] { side, side, 3 }, fillValue, ScalarType.Byte, imageHwc.device);
        long top = (side - h) / 2, left = (side - w) / 2;
        canvas[TensorIndex.Slice(top, top + h), TensorIndex.Slice(left, left + w)] = imageHwc;
        return canvas;
    }

    /// <summary>
    /// HF's shortest-edge resize of uint8 [B, 3, H, W]: the short side becomes <paramref name="shortestEdge"/>,
    /// the long side int(shortestEdge · long / short).
    /// </summary>
    public static Tensor ResizeShortestEdge(Tensor chw, int shortestEdge)
    {
        long h = chw.shape[2], w = chw.shape[3];
        long shortSide = Math.Min(h, w), longSide = Math.Max(h, w);
        long newLong = (long)((double)shortestEdge * longSide / shortSide);
        long newH = h <= w ? shortestEdge : newLong;
        long newW = h <= w ? newLong : shortestEdge;
        return (newH == h && newW == w) ? chw.alias() : ResizeU8(chw, newH, newW);
    }

    /// <summary>HF's centre crop: offsets (size − crop) / 2 rounded down.</summary>
    public static Tensor CenterCrop(Tensor chw, int cropHeight, int cropWidth)
    {
        long h = chw.shape[2], w = chw.shape[3];
        if (h < cropHeight || w < cropWidth)
            throw new NotSupportedException($"centre crop {cropHeight}×{cropWidth} of a smaller {h}×{w} image (HF would pad) is not implemented");
        long top = (h - cropHeight) / 2, left = (w - cropWidth) / 2;
        return chw[.., .., TensorIndex.Slice(top, top + cropHeight), TensorIndex.Slice(left, left + cropWidth)];
    }

    // PIL's bicubic (a = -0.5, support scaled by the reduction) with its integer arithmetic, rounding and
    // clamping: libtorch's antialiased bicubic on uint8 tensors is a port of Pillow's resampler.
    private static Tensor ResizeU8(Tensor chw, long height, long width)
    {
        if (chw.dtype != ScalarType.Byte) throw new ArgumentException($"expected uint8 pixels, got {chw.dtype}", nameof(chw));
        return nn.functional.interpolate(chw.contiguous(), new[] { height, width }, mode: InterpolationMode.Bicubic, align_corners: false, antialias: true);
    }

    private Tensor RescaleNormalize(Tensor chw)
    {
        var x = chw.to(ScalarType.Float32);
        if (_config.DoRescale)
        {
            using var rescale = _config.RescaleFactor.ToScalar();
            x = x * rescale;
        }
        if (_config.DoNormalize)
        {
            var mean = tensor(_config.ImageMean, ScalarType.Float32, x.device).view(1, 3, 1, 1);
            var std = tensor(_config.ImageStd, ScalarType.Float32, x.device).view(1, 3, 1, 1);
            x = (x - mean) / std;
        }
        return x.contiguous();
    }

    private static void CheckHwc(Tensor t, int dims, string name)
    {
        if (t.dim() != dims || t.shape[^1] != 3 || t.dtype != ScalarType.Byte)
            throw new ArgumentException($"expected RGB uint8 {(dims == 3 ? "[H, W, 3]" : "[T, H, W, 3]")}, got {t.dtype} [{string.Join(", ", t.shape)}]", name);
    }
}
