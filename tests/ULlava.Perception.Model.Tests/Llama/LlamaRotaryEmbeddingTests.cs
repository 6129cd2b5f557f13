using System.Text.Json;
using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Llama;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests.Llama;

public class LlamaRotaryEmbeddingTests
{
    // head_dim 8: default inverse frequencies are 10000^(-i/8) for i = 0, 2, 4, 6 = 1, 0.1, 0.01, 0.001.
    private static LlamaConfig Config(RopeScalingConfig? scaling, int maxPositions = 2048) => new()
    {
        HiddenSize = 32,
        NumAttentionHeads = 4,
        MaxPositionEmbeddings = maxPositions,
        RopeScaling = scaling,
    };

    private static void AssertFrequencies(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 2e-6 * expected[i], $"inv_freq[{i}] = {actual[i]}, expected {expected[i]}");
    }

    [Fact]
    public void DefaultFrequenciesAreThetaPowers() =>
        AssertFrequencies([1.0, 0.1, 0.01, 0.001], new LlamaRotaryEmbedding(Config(null)).InverseFrequencies(10));

    [Fact]
    public void LinearScalingEqualsPositionsDividedByFactor()
    {
        using var scope = NewDisposeScope();
        var linear = new LlamaRotaryEmbedding(Config(new RopeScalingConfig { RopeType = "linear", Factor = 4 }));
        var plain = new LlamaRotaryEmbedding(Config(null));
        var positions = arange(0, 600, dtype: ScalarType.Int64).unsqueeze(0);
        var (cos, sin) = linear.Forward(positions, 600, ScalarType.Float32);
        var (cosRef, sinRef) = plain.Forward(positions.to_type(ScalarType.Float32) / 4, 600, ScalarType.Float32);
        TensorAssert.Close(cosRef, cos, 1e-5, "cos");
        TensorAssert.Close(sinRef, sin, 1e-5, "sin");
        AssertFrequencies([0.25, 0.025, 0.0025, 0.00025], linear.InverseFrequencies(600));
    }

    [Fact]
    public void Llama3ScalingMatchesTheHandComputedBands()
    {
        // original context 1024, low_freq_factor 1 → low_freq_wavelen 1024, high_freq_factor 4 → high_freq_wavelen 256.
        // Wavelengths 2π/f: 6.28 and 62.8 are short (kept), 628 is in the band (smoothed), 6283 is long (divided by 8).
        // Band: smooth = (1024 / 628.32 - 1) / (4 - 1) = 0.20992; f = 0.01 · ((1 - smooth) / 8 + smooth) = 0.0030867610.
        var rope = new LlamaRotaryEmbedding(Config(new RopeScalingConfig
        {
            RopeType = "llama3", Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 1024,
        }));
        AssertFrequencies([1.0, 0.1, 0.0030867610, 0.000125], rope.InverseFrequencies(4096));
    }

    [Fact]
    public void DynamicNtkEnlargesTheBaseOnlyPastTheOriginalContext()
    {
        var rope = new LlamaRotaryEmbedding(Config(new RopeScalingConfig { Type = "dynamic", Factor = 2 }, maxPositions: 16));
        AssertFrequencies([1.0, 0.1, 0.01, 0.001], rope.InverseFrequencies(16));
        // seq 32: base = 10000 · (2·32/16 − 1)^(8/6) = 43267.487; f_i = base^(−i/8).
        AssertFrequencies([1.0, 0.069336127, 0.0048074986, 0.00033333333], rope.InverseFrequencies(32));
    }

    [Fact]
    public void TheRotationEqualsHuggingFacesRotateHalf()
    {
        using var scope = NewDisposeScope();
        var rope = new LlamaRotaryEmbedding(Config(null));
        var q = randn(2, 4, 3, 8);
        var k = randn(2, 2, 3, 8);
        var (cos, sin) = rope.Forward(tensor(new long[] { 0, 7, 300, 1, 2, 3 }).view(2, 3), 400, ScalarType.Float32);
        var (qr, kr) = LlamaRotaryEmbedding.Apply(q, k, cos, sin);
        // apply_rotary_pos_emb as written in transformers: x·cos + rotate_half(x)·sin, rotate_half(x) = cat(−x2, x1).
        static Tensor RotateHalf(Tensor x) => cat(new[] { -x.narrow(-1, 4, 4), x.narrow(-1, 0, 4) }, -1);
        TensorAssert.Close(q * cos.unsqueeze(1) + RotateHalf(q) * sin.unsqueeze(1), qr, 1e-6, "query");
        TensorAssert.Close(k * cos.unsqueeze(1) + RotateHalf(k) * sin.unsqueeze(1), kr, 1e-6, "key");
    }

    [Fact]
    public void RotatedDotProductsDependOnlyOnRelativePosition()
    {
        using var scope = NewDisposeScope();
        var rope = new LlamaRotaryEmbedding(Config(null));
        var q = randn(1, 1, 1, 8).expand(1, 1, 2, 8);
        var k = randn(1, 1, 1, 8).expand(1, 1, 2, 8);
        var (cos, sin) = rope.Forward(tensor(new long[] { 5, 105 }).unsqueeze(0), 200, ScalarType.Float32);
        var (qr, _) = LlamaRotaryEmbedding.Apply(q, k, cos, sin);
        var (cos2, sin2) = rope.Forward(tensor(new long[] { 2, 102 }).unsqueeze(0), 200, ScalarType.Float32);
        var (_, kr) = LlamaRotaryEmbedding.Apply(q, k, cos2, sin2);
        // q at 5 · k at 2 equals q at 105 · k at 102 (both offset 3); a rotation by an absolute angle would not be.
        var dots = (qr * kr).sum(-1).flatten();
        Assert.Equal(dots[0].item<float>(), dots[1].item<float>(), 1e-4f);
    }

    [Fact]
    public void RopeScalingReadsBothTheOldAndNewKeyAndRejectsUnknownTypes()
    {
        var old = JsonSerializer.Deserialize<RopeScalingConfig>("""{"type":"linear","factor":2.0}""")!;
        var v5 = JsonSerializer.Deserialize<RopeScalingConfig>("""{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192}""")!;
        Assert.Equal("linear", new LlamaRotaryEmbedding(Config(old)).RopeType);
        Assert.Equal("llama3", new LlamaRotaryEmbedding(Config(v5)).RopeType);
        Assert.Throws<NotSupportedException>(() => new LlamaRotaryEmbedding(Config(new RopeScalingConfig { RopeType = "yarn", Factor = 4 })));
    }
}
