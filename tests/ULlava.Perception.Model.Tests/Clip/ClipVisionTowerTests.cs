using TorchSharp;
using ULlava.Perception.Model.Clip;
using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Projector;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests.Clip;

public class ClipVisionTowerTests(ITestOutputHelper output)
{
    private static readonly LlamaConfig LlmConfig = ULlavaConfig.Load(Path.Combine(Fixtures.TinyCheckpoint, "config.json")).LlmConfig;

    private static ClipVisionTower LoadTower()
    {
        var tower = new ClipVisionTower(LlmConfig);
        // strict: every checkpoint key has a parameter and every parameter a key.
        tower.load_state_dict(TinyWeights.Under("llm.vision_encoder."), strict: true);
        tower.eval();
        return tower;
    }

    private static VisionProjector LoadProjector()
    {
        var projector = new VisionProjector(LlmConfig);
        projector.load_state_dict(TinyWeights.Under("llm.vision_projector."), strict: true);
        projector.eval();
        return projector;
    }

    [Fact]
    public void StateDictKeysAndShapesEqualTheCheckpoints()
    {
        using var tower = new ClipVisionTower(LlmConfig);
        var expected = TinyWeights.Under("llm.vision_encoder.");
        var actual = tower.state_dict();
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, t) in expected) Assert.Equal(t.shape, actual[key].shape);

        using var projector = new VisionProjector("mlp", LlmConfig.VisionConfig.HiddenSize, LlmConfig.HiddenSize);
        var pExpected = TinyWeights.Under("llm.vision_projector.");
        var pActual = projector.state_dict();
        Assert.Equal(pExpected.Keys.Order(), pActual.Keys.Order());
        foreach (var (key, t) in pExpected) Assert.Equal(t.shape, pActual[key].shape);
    }

    [Fact]
    public void SelectedHiddenStateMatchesHuggingFace()
    {
        using var scope = NewDisposeScope();
        using var tower = LoadTower();
        using var _ = no_grad();
        // -2 with 3 layers: only two run.
        Assert.Equal(2, tower.LayersRun);
        var features = tower.call(Golden.Get("clip_pixel_values"));
        var (abs, rel) = TensorAssert.Diff(Golden.Get("clip_hidden_state_sel"), features);
        output.WriteLine($"clip_hidden_state_sel: max_abs {abs:E3} max_rel {rel:E3}");
        TensorAssert.Close(Golden.Get("clip_hidden_state_sel"), features, TensorAssert.Features, "clip_hidden_state_sel");
    }

    [Fact]
    public void LastHiddenStateWithClsMatchesHuggingFace()
    {
        using var scope = NewDisposeScope();
        using var tower = LoadTower();
        using var _ = no_grad();
        var pixels = Golden.Get("clip_pixel_values");
        var last = tower.HiddenState(pixels, -1);
        TensorAssert.Close(Golden.Get("clip_hidden_state_last"), last, TensorAssert.Features, "clip_hidden_state_last");
        // Index 3 of 3 layers is the same state; -2 with CLS dropped is the tower's output.
        TensorAssert.Close(last, tower.HiddenState(pixels, 3), 0, "hidden_states[3]");
        TensorAssert.Close(Golden.Get("clip_hidden_state_sel"), tower.HiddenState(pixels, -2)[.., 1..], TensorAssert.Features, "hidden_states[-2]");
        // The selected layer differs from the last one, so the layer indexing is really checked.
        var (_, relLastVsSel) = TensorAssert.Diff(Golden.Get("clip_hidden_state_sel"), last[.., 1..]);
        Assert.True(relLastVsSel > 1e-2, $"last and selected states differ by only {relLastVsSel}");
        Assert.Throws<ArgumentOutOfRangeException>(() => tower.HiddenState(pixels, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => tower.HiddenState(pixels, -5));
    }

    [Fact]
    public void ProjectedFeaturesMatchUllava()
    {
        using var scope = NewDisposeScope();
        using var tower = LoadTower();
        using var projector = LoadProjector();
        using var _ = no_grad();
        var projected = projector.call(tower.call(Golden.Get("clip_pixel_values")));
        var (abs, rel) = TensorAssert.Diff(Golden.Get("image_features_projected"), projected);
        output.WriteLine($"image_features_projected: max_abs {abs:E3} max_rel {rel:E3}");
        TensorAssert.Close(Golden.Get("image_features_projected"), projected, TensorAssert.Features, "image_features_projected");
    }

    [Fact]
    public void Mlp2xProjectorHasSequentialKeysAndShapes()
    {
        using var scope = NewDisposeScope();
        using var projector = new VisionProjector("mlp2x", 32, 64);
        var sd = projector.state_dict();
        Assert.Equal(new[] { "0.bias", "0.weight", "2.bias", "2.weight" }, sd.Keys.Order());
        Assert.Equal(new long[] { 64, 32 }, sd["0.weight"].shape);
        Assert.Equal(new long[] { 64 }, sd["0.bias"].shape);
        Assert.Equal(new long[] { 64, 64 }, sd["2.weight"].shape);
        Assert.Equal(new long[] { 64 }, sd["2.bias"].shape);

        var x = randn(2, 256, 32);
        var y = projector.call(x);
        Assert.Equal(new long[] { 2, 256, 64 }, y.shape);
        // Same maths written out: Linear, exact GELU, Linear.
        var expected = nn.functional.linear(nn.functional.gelu(nn.functional.linear(x, sd["0.weight"], sd["0.bias"])), sd["2.weight"], sd["2.bias"]);
        TensorAssert.Close(expected, y, 1e-6, "mlp2x forward");
        Assert.Throws<NotSupportedException>(() => new VisionProjector("linear", 32, 64));
    }

    [Fact]
    public void Bf16TowerStaysNearFloat32()
    {
        using var scope = NewDisposeScope();
        using var tower = LoadTower();
        using var _ = no_grad();
        tower.to(ScalarType.BFloat16);
        var features = tower.call(Golden.Get("clip_pixel_values"));
        Assert.Equal(ScalarType.BFloat16, features.dtype);
        var (abs, rel) = TensorAssert.Diff(Golden.Get("clip_hidden_state_sel"), features);
        output.WriteLine($"bf16 clip_hidden_state_sel: max_abs {abs:E3} max_rel {rel:E3}");
        // Measured on CPU (libtorch 2.10): max_rel 9.6e-3 (max_abs 3.4e-2); bf16 keeps 8 significant bits.
        // The bound leaves about 2× headroom over that measurement.
        TensorAssert.Close(Golden.Get("clip_hidden_state_sel"), features, 2e-2, "bf16 clip_hidden_state_sel");

        using var projector = LoadProjector();
        projector.to(ScalarType.BFloat16);
        var projected = projector.call(features);
        Assert.Equal(ScalarType.BFloat16, projected.dtype);
        (abs, rel) = TensorAssert.Diff(Golden.Get("image_features_projected"), projected);
        output.WriteLine($"bf16 image_features_projected: max_abs {abs:E3} max_rel {rel:E3}");
        // Measured on CPU: max_rel 6.7e-3 (max_abs 1.8e-2); same bound.
        TensorAssert.Close(Golden.Get("image_features_projected"), projected, 2e-2, "bf16 image_features_projected");
    }
}
