using TorchSharp;
using ULlava.Perception.Model.Clip;
using ULlava.Perception.Model.Config;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests.Clip;

public class VideoTokensTests(ITestOutputHelper output)
{
    [Fact]
    public void VideoPixelsThroughTowerGiveUllavaStFeatures()
    {
        using var scope = NewDisposeScope();
        var llm = ULlavaConfig.Load(Path.Combine(Fixtures.TinyCheckpoint, "config.json")).LlmConfig;
        using var tower = new ClipVisionTower(llm);
        tower.load_state_dict(TinyWeights.Under("llm.vision_encoder."), strict: true);
        tower.eval();
        using var _ = no_grad();
        var frameFeatures = tower.call(Golden.Get("video_pixel_values"));   // [4, 256, 32]
        var tokens = VideoTokens.FromFrameFeatures(frameFeatures);
        var (abs, rel) = TensorAssert.Diff(Golden.Get("video_st_features"), tokens);
        output.WriteLine($"video_st_features: max_abs {abs:E3} max_rel {rel:E3}");
        TensorAssert.Close(Golden.Get("video_st_features"), tokens, TensorAssert.Features, "video_st_features");

        // The whole path from the raw frames.
        var processor = ClipImageProcessor.Load(Path.Combine(Fixtures.TinyCheckpoint, "preprocessor_config.json"));
        var fromFrames = VideoTokens.FromFrameFeatures(tower.call(processor.PreprocessVideo(Golden.Get("video_frames_u8"))));
        TensorAssert.Close(Golden.Get("video_st_features"), fromFrames, TensorAssert.Features, "video_st_features from frames");
    }

    [Fact]
    public void TemporalTokensComeFirstThenSpatial()
    {
        using var scope = NewDisposeScope();
        // Frame t, patch n, channel c holds 100t + n: frame means are 100t + 1.5, patch means 150 + n.
        var f = (arange(3).view(3, 1, 1) * 100 + arange(4).view(1, 4, 1)).expand(3, 4, 2).to(ScalarType.Float32);
        var tokens = VideoTokens.FromFrameFeatures(f);
        Assert.Equal(new long[] { 1, 7, 2 }, tokens.shape);
        Assert.Equal(new float[] { 1.5f, 101.5f, 201.5f, 100, 101, 102, 103 }, tokens[0, .., 0].data<float>().ToArray());
        Assert.Throws<ArgumentException>(() => VideoTokens.FromFrameFeatures(f.unsqueeze(0)));
    }
}
