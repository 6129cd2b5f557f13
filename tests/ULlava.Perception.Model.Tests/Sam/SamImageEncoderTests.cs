using TorchSharp;
using Xunit.Abstractions;
using ULlava.Perception.Model.Sam;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests.Sam;

public class SamImageEncoderTests
{
    private readonly ITestOutputHelper output;

    public SamImageEncoderTests(ITestOutputHelper output) => this.output = output;

    [Fact]
    public void ResizeLongestSideMatchesPilBilinearWithinOneGreyLevel()
    {
        using var scope = NewDisposeScope();
        var padded = Golden.Get("clip_padded_image_u8");
        int top = (int)(padded.shape[0] - TinySam.ImageH) / 2;
        Assert.True(padded[..top].eq(255).all().item<bool>() && padded[(top + TinySam.ImageH)..].eq(255).all().item<bool>(),
            "the square's padding is white, so its middle rows are the scene");

        var hw = Fixtures.GoldenJson.GetProperty("sam_resize_hw");
        Assert.Equal((hw[0].GetInt32(), hw[1].GetInt32()), SamTransforms.GetPreprocessShape(TinySam.ImageH, TinySam.ImageW, 1024));

        var resized = SamTransforms.ResizeLongestSide(TinySam.Scene(), TinySam.Config.ImageSize);
        var expected = Golden.Get("sam_resized_u8");
        Assert.Equal(expected.shape, resized.shape);
        Assert.Equal(ScalarType.Byte, resized.dtype);
        var diff = (resized.to_type(ScalarType.Int32) - expected.to_type(ScalarType.Int32)).abs();
        int maxDiff = diff.max().item<int>();
        double offFraction = diff.gt(0).to_type(ScalarType.Float64).mean().item<double>();
        output.WriteLine($"resize: max |diff| {maxDiff} grey levels, {offFraction:P4} of values differ");
        Assert.True(maxDiff <= 1, $"resize differs by {maxDiff} grey levels");
    }

    [Fact]
    public void NormalizedPaddedInputMatchesChecksum()
    {
        using var scope = NewDisposeScope();
        var input = SamTransforms.NormalizeAndPad(Golden.Get("sam_resized_u8"), TinySam.Config);
        Assert.Equal(new long[] { 1, 3, 1024, 1024 }, input.shape);
        var checksum = Golden.Get("sam_input_checksum");
        double sum = input.to_type(ScalarType.Float64).sum().item<double>();
        double meanAbs = input.to_type(ScalarType.Float64).abs().mean().item<double>();
        double expectedSum = checksum[0].item<float>(), expectedMeanAbs = checksum[1].item<float>();
        output.WriteLine($"sum {sum} (golden {expectedSum}), mean|x| {meanAbs} (golden {expectedMeanAbs})");
        // The golden sum is a float32 reduction of 3.1M values: agreement to 1e-5 relative is all it can carry.
        Assert.True(Math.Abs(sum - expectedSum) <= 1e-5 * Math.Abs(expectedSum), $"sum {sum} vs {expectedSum}");
        Assert.True(Math.Abs(meanAbs - expectedMeanAbs) <= 1e-6, $"mean-abs {meanAbs} vs {expectedMeanAbs}");
        // Padding is zero after normalisation (bottom rows 768..1023).
        Assert.Equal(0.0, input[.., .., 768.., ..].abs().max().item<float>());
    }

    [Fact]
    public void ImageEmbeddingsMatchGolden()
    {
        TensorAssert.Close(Golden.Get("sam_image_embeddings"), TinySam.Embeddings, TensorAssert.Features, "sam_image_embeddings");
        var (maxAbs, maxRel) = TensorAssert.Diff(Golden.Get("sam_image_embeddings"), TinySam.Embeddings);
        output.WriteLine($"sam_image_embeddings: max_abs {maxAbs:E3}, max_rel {maxRel:E3}");
    }

    [Fact]
    public void ImageEmbeddingsFromRawSceneMatchGolden()
    {
        using var scope = NewDisposeScope();
        var embeddings = TinySam.Model.EmbedImage(TinySam.Scene());
        var (maxAbs, maxRel) = TensorAssert.Diff(Golden.Get("sam_image_embeddings"), embeddings);
        output.WriteLine($"from raw scene: max_abs {maxAbs:E3}, max_rel {maxRel:E3}");
        TensorAssert.Close(Golden.Get("sam_image_embeddings"), embeddings, TensorAssert.Features, "sam_image_embeddings (raw scene)");
    }

    [Fact]
    public void DensePositionalEncodingMatchesGolden()
    {
        using var scope = NewDisposeScope();
        var pe = TinySam.Model.PromptEncoder.GetDensePe();
        TensorAssert.Close(Golden.Get("sam_dense_pe"), pe, TensorAssert.Features, "sam_dense_pe");
    }
}
