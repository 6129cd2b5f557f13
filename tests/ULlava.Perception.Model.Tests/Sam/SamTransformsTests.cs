using TorchSharp;
using ULlava.Perception.Model.Sam;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests.Sam;

public class SamTransformsTests
{
    [Theory]
    [InlineData(80, 320, 480, 640)]    // the default model: 320 px SAM, a 640×480 frame
    [InlineData(256, 1024, 480, 640)]  // SAM-H's side
    [InlineData(256, 1024, 1080, 1920)]
    [InlineData(80, 320, 375, 500)]    // scales that are not whole numbers
    [InlineData(80, 320, 700, 333)]    // portrait
    public void MasksByMatrixProductsEqualMetasTwoInterpolations(int low, int side, int height, int width)
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        var logits = randn(1, 3, low, low) * 8;
        var (inputH, inputW) = SamTransforms.GetPreprocessShape(height, width, side);
        var expected = SamTransforms.PostprocessMasksByInterpolation(logits, inputH, inputW, height, width, side);
        var actual = SamTransforms.PostprocessMasks(logits, inputH, inputW, height, width, side);
        TensorAssert.Close(expected, actual, 1e-5);
        // The masks the node publishes: equal wherever the logit is not within rounding of zero.
        var decided = expected.abs().gt(1e-3);
        Assert.True(expected.gt(0).eq(actual.gt(0)).logical_or(decided.logical_not()).all().item<bool>());
        // A second call reuses the cached operators and still answers the same.
        TensorAssert.Close(expected, SamTransforms.PostprocessMasks(logits, inputH, inputW, height, width, side), 1e-5);
    }

    [Fact]
    public void MasksKeepTheirDtype()
    {
        using var scope = NewDisposeScope();
        var logits = randn(1, 1, 80, 80).to(ScalarType.BFloat16);
        var masks = SamTransforms.PostprocessMasks(logits, 240, 320, 480, 640, 320);
        Assert.Equal(ScalarType.BFloat16, masks.dtype);
        Assert.Equal(new long[] { 1, 1, 480, 640 }, masks.shape);
    }
}
