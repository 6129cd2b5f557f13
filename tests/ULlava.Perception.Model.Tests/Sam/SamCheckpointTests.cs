using System.Text.Json;
using TorchSharp;
using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Heads;
using ULlava.Perception.Model.Sam;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests.Sam;

/// <summary>Loading SAM from Meta's standalone layout, and the ViT-H / 7B head shapes against the real checkpoint's manifest.</summary>
public class SamCheckpointTests
{
    private readonly ITestOutputHelper output;

    public SamCheckpointTests(ITestOutputHelper output) => this.output = output;

    [Fact]
    public void StandalonePthLoadsTheSameWeightsAndGivesTheSameEmbeddings()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sam = SamModel.FromPth(Path.Combine(Fixtures.Tiny, "sam_tiny.pth"), TinySam.Config);
        var ours = sam.state_dict();
        Assert.Equal(TinySam.CheckpointWeights.Keys.Count(k => k.StartsWith("visual_model.", StringComparison.Ordinal)), ours.Count);
        foreach (var (name, t) in ours)
            Assert.True(t.eq(TinySam.CheckpointWeights["visual_model." + name]).all().item<bool>(), $"{name} differs from the checkpoint's visual_model.{name}");

        var input = SamTransforms.NormalizeAndPad(Golden.Get("sam_resized_u8"), sam.Config);
        var embeddings = sam.ImageEncoder.forward(input);
        TensorAssert.Close(Golden.Get("sam_image_embeddings"), embeddings, TensorAssert.Features, "sam_image_embeddings (sam_tiny.pth)");
        TensorAssert.Close(TinySam.Embeddings, embeddings, 0, "same as visual_model.* embeddings");
    }

    [Fact]
    public void MissingStandaloneFileNamesThePath()
    {
        var path = Path.Combine(Fixtures.Tiny, "no_such_sam.pth");
        var e = Assert.Throws<FileNotFoundException>(() => SamModel.FromPth(path, TinySam.Config));
        Assert.Contains("no_such_sam.pth", e.Message);
    }

    [Fact]
    public void VitHAndSevenBHeadsMatchTheManifestNamesAndShapes()
    {
        var manifest = JsonDocument.Parse(File.ReadAllText(Fixtures.Manifest7B)).RootElement.GetProperty("shapes");
        var expected = manifest.EnumerateObject()
            .Where(p => !p.Name.StartsWith("llm.", StringComparison.Ordinal))
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(e => e.GetInt64()).ToArray());
        Assert.Contains(expected.Keys, k => k.StartsWith("visual_model.", StringComparison.Ordinal));

        // meta: shapes without storage, so ViT-H's ~640M parameters cost nothing.
        var meta = new Device(DeviceType.META);
        var actual = new Dictionary<string, long[]>();
        using (var scope = NewDisposeScope())
        {
            var config = new ULlavaConfig(); // a real u-LLaVA config has no sam_config: ViT-H, out_dim 256, LLaMA-7B
            Assert.Equal((1280, 32, 16, 256), (config.Sam.EncoderEmbedDim, config.Sam.EncoderDepth, config.Sam.EncoderNumHeads, config.Sam.PromptEmbedDim));
            var sam = new SamModel(config.Sam, meta);
            Add(actual, "visual_model.", sam);
            Add(actual, "seg_projector.", new TextProjector(config.LlmConfig.HiddenSize, config.OutDim, meta));
            Add(actual, "det_projector.", new TextProjector(config.LlmConfig.HiddenSize, config.OutDim, meta));
            Add(actual, "det_decoder.", new DetDecoder(config.OutDim, meta));
            Assert.Equal(DeviceType.META, sam.ImageEncoder.parameters().First().device_type);
        }

        var missing = expected.Keys.Except(actual.Keys).ToList();
        var extra = actual.Keys.Except(expected.Keys).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0, $"missing [{string.Join(", ", missing.Take(10))}], extra [{string.Join(", ", extra.Take(10))}]");
        foreach (var (name, shape) in expected)
            Assert.True(shape.SequenceEqual(actual[name]), $"{name}: ours [{string.Join(",", actual[name])}], manifest [{string.Join(",", shape)}]");
        long samParams = actual.Where(p => p.Key.StartsWith("visual_model.", StringComparison.Ordinal)).Sum(p => p.Value.Aggregate(1L, (a, b) => a * b));
        output.WriteLine($"{actual.Count} tensors, SAM ViT-H {samParams:N0} parameters");
    }

    private static void Add(Dictionary<string, long[]> into, string prefix, nn.Module module)
    {
        foreach (var (name, t) in module.state_dict()) into[prefix + name] = t.shape;
    }
}
