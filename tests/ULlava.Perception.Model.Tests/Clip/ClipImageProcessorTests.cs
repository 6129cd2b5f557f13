using TorchSharp;
using ULlava.Perception.Model.Clip;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests.Clip;

public class ClipImageProcessorTests(ITestOutputHelper output)
{
    private static ClipImageProcessor Processor() => ClipImageProcessor.Load(Path.Combine(Fixtures.TinyCheckpoint, "preprocessor_config.json"));

    private static Tensor SceneHwc()
    {
        var (rgb, width, height) = PngReader.ReadRgb(Fixtures.ScenePng);
        return tensor(rgb, new long[] { height, width, 3 }, ScalarType.Byte);
    }

    private static bool SameU8(Tensor a, Tensor b) =>
        a.dtype == ScalarType.Byte && b.dtype == ScalarType.Byte && a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    /// <summary>README bounds, plus <paramref name="pilExact"/>: the uint8 resize equals PIL's, so only float32 normalisation error remains.</summary>
    private void AssertPixelsClose(Tensor expected, Tensor actual, string name, bool pilExact = true)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(ScalarType.Float32, actual.dtype);
        var diff = (expected - actual).abs();
        double max = diff.max().item<float>(), mean = diff.mean().item<float>();
        output.WriteLine($"{name}: max_abs {max:E3} mean_abs {mean:E3}");
        // README: preprocessing from raw pixels is within 0.02 max and 0.002 mean.
        Assert.True(max <= 0.02, $"{name}: max abs {max}");
        Assert.True(mean <= 0.002, $"{name}: mean abs {mean}");
        // Measured 4.8e-7: one grey level off anywhere would be ≥ 1/255/0.276 ≈ 0.0142.
        if (pilExact) Assert.True(max <= 1e-5, $"{name}: max abs {max}, not PIL-exact");
    }

    [Fact]
    public void PngReaderDecodesScene()
    {
        using var scope = NewDisposeScope();
        var scene = SceneHwc();
        var expected = Fixtures.GoldenJson.GetProperty("image_size_hw").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        Assert.Equal(new[] { expected[0], expected[1], 3L }, scene.shape);
        // The golden padded square holds the scene's rows unchanged (the exact pad test is below).
        var padded = Golden.Get("clip_padded_image_u8");
        Assert.True(SameU8(padded[TensorIndex.Slice(64, 448)], scene));
    }

    [Fact]
    public void ExpandToSquareEqualsUllavaPadExactly()
    {
        using var scope = NewDisposeScope();
        var padded = ClipImageProcessor.ExpandToSquare(SceneHwc());
        Assert.True(SameU8(Golden.Get("clip_padded_image_u8"), padded), "padded image differs from clip_padded_image_u8");
    }

    [Fact]
    public void ExpandToSquarePutsTheOddPixelAfterTheImage()
    {
        using var scope = NewDisposeScope();
        // 2 wide, 5 high: offset (5 - 2) / 2 = 1, so one white column before and two after.
        var image = zeros(new long[] { 5, 2, 3 }, ScalarType.Byte);
        var square = ClipImageProcessor.ExpandToSquare(image);
        Assert.Equal(new long[] { 5, 5, 3 }, square.shape);
        var column = square[0, .., 0].data<byte>().ToArray();
        Assert.Equal(new byte[] { 255, 0, 0, 255, 255 }, column);
        // Wide image: rows instead of columns.
        var wide = ClipImageProcessor.ExpandToSquare(zeros(new long[] { 2, 5, 3 }, ScalarType.Byte));
        Assert.Equal(new byte[] { 255, 0, 0, 255, 255 }, wide[.., 0, 0].data<byte>().ToArray());
    }

    [Fact]
    public void PaddedGoldenImageGivesClipPixelValues()
    {
        using var scope = NewDisposeScope();
        var processor = Processor();
        var pixels = processor.Preprocess(Golden.Get("clip_padded_image_u8"));
        AssertPixelsClose(Golden.Get("clip_pixel_values"), pixels, "padded → clip_pixel_values");
    }

    [Fact]
    public void RawPngGivesClipPixelValues()
    {
        using var scope = NewDisposeScope();
        var (rgb, width, height) = PngReader.ReadRgb(Fixtures.ScenePng);
        var pixels = Processor().Preprocess(rgb, width, height);
        AssertPixelsClose(Golden.Get("clip_pixel_values"), pixels, "scene.png → clip_pixel_values");
    }

    [Fact]
    public void FloatBicubicWouldMissPil()
    {
        // Why the resize runs on uint8: libtorch's float antialiased bicubic, rounded afterwards, lacks PIL's
        // fixed-point arithmetic and lands a grey level off in places.
        using var scope = NewDisposeScope();
        var chw = Golden.Get("clip_padded_image_u8").permute(2, 0, 1).unsqueeze(0);
        var f32 = nn.functional.interpolate(chw.to(ScalarType.Float32), new long[] { 224, 224 }, mode: InterpolationMode.Bicubic, align_corners: false, antialias: true)
            .round().clamp(0, 255);
        var config = Processor().Config;
        var mean = tensor(config.ImageMean).view(1, 3, 1, 1);
        var std = tensor(config.ImageStd).view(1, 3, 1, 1);
        var pixels = (f32 * config.RescaleFactor - mean) / std;
        var max = (Golden.Get("clip_pixel_values") - pixels).abs().max().item<float>();
        output.WriteLine($"float antialiased bicubic vs PIL: max_abs {max:E3}");
        Assert.True(max > 1e-2, $"float path unexpectedly PIL-exact ({max})");
    }

    [Fact]
    public void VideoFramesGiveVideoPixelValues()
    {
        using var scope = NewDisposeScope();
        var pixels = Processor().PreprocessVideo(Golden.Get("video_frames_u8"));
        AssertPixelsClose(Golden.Get("video_pixel_values"), pixels, "video_frames_u8 → video_pixel_values");
    }

    [Fact]
    public void ShortestEdgeResizeKeepsAspectLikeHuggingFace()
    {
        using var scope = NewDisposeScope();
        // HF: the long side becomes int(224 · 512 / 384) = 298 (truncated, not rounded).
        var resized = ClipImageProcessor.ResizeShortestEdge(zeros(new long[] { 1, 3, 384, 512 }, ScalarType.Byte), 224);
        Assert.Equal(new long[] { 1, 3, 224, 298 }, resized.shape);
        var tall = ClipImageProcessor.ResizeShortestEdge(zeros(new long[] { 1, 3, 512, 384 }, ScalarType.Byte), 224);
        Assert.Equal(new long[] { 1, 3, 298, 224 }, tall.shape);
        // Without the pad the centre crop takes columns 37..261 of the 298.
        var ramp = arange(298, ScalarType.Int32).view(1, 1, 1, 298).expand(1, 3, 224, 298);
        var crop = ClipImageProcessor.CenterCrop(ramp, 224, 224);
        Assert.Equal(new long[] { 1, 3, 224, 224 }, crop.shape);
        Assert.Equal(37, crop[0, 0, 0, 0].item<int>());
        Assert.Equal(260, crop[0, 0, 0, 223].item<int>());
    }

    [Fact]
    public void UniformFramesNormalisePerChannel()
    {
        using var scope = NewDisposeScope();
        var processor = Processor();
        // Two 300×400 frames of one colour: the stretch to 224×224 keeps the colour, so each channel is (v/255 − mean)/std.
        var frames = tensor(new byte[] { 10, 128, 250 }, ScalarType.Byte).view(1, 1, 1, 3).expand(2, 300, 400, 3).contiguous();
        var pixels = processor.PreprocessVideo(frames);
        Assert.Equal(new long[] { 2, 3, 224, 224 }, pixels.shape);
        var config = processor.Config;
        byte[] value = { 10, 128, 250 };
        for (int c = 0; c < 3; c++)
        {
            float expected = (float)((value[c] / 255.0 - config.ImageMean[c]) / config.ImageStd[c]);
            Assert.Equal(expected, pixels[.., c].min().item<float>(), 1e-5f);
            Assert.Equal(expected, pixels[.., c].max().item<float>(), 1e-5f);
        }
        // Without the pad a single image is resized and cropped, not stretched.
        var unpadded = new ClipImageProcessor(config, padToSquare: false).Preprocess(frames[0]);
        Assert.Equal(new long[] { 1, 3, 224, 224 }, unpadded.shape);
    }

    [Fact]
    public void RejectsWhatIsNotRgbUint8()
    {
        using var scope = NewDisposeScope();
        var processor = Processor();
        Assert.Throws<ArgumentException>(() => processor.Preprocess(zeros(8, 8, 3)));
        Assert.Throws<ArgumentException>(() => processor.Preprocess(zeros(new long[] { 8, 8, 4 }, ScalarType.Byte)));
        Assert.Throws<ArgumentException>(() => processor.Preprocess(new byte[10], 2, 2));
    }
}
