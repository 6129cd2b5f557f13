using TorchSharp;
using TorchSharp.PyBridge;
using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Sam;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests.Sam;

/// <summary>The tiny checkpoint's SAM, loaded once, and the image embeddings it computes from the golden resized image.</summary>
public static class TinySam
{
    private static readonly Lazy<Dictionary<string, Tensor>> Weights = new(() =>
        Unscoped.Build(() => Safetensors.LoadStateDict(Path.Combine(Fixtures.TinyCheckpoint, "model.safetensors"))));

    private static readonly Lazy<ULlavaConfig> ConfigLazy = new(() => ULlavaConfig.Load(Path.Combine(Fixtures.TinyCheckpoint, "config.json")));

    private static readonly Lazy<SamModel> ModelLazy = new(() => Unscoped.Build(() =>
    {
        var model = new SamModel(ConfigLazy.Value.Sam);
        model.LoadWeights(Weights.Value, "visual_model.");
        model.eval();
        return model;
    }));

    private static readonly Lazy<Tensor> EmbeddingsLazy = new(() => Unscoped.Build(() =>
    {
        using var noGrad = no_grad();
        using var input = SamTransforms.NormalizeAndPad(Golden.Get("sam_resized_u8"), Config);
        return Model.ImageEncoder.forward(input);
    }));

    public static ULlavaConfig ULlavaConfig => ConfigLazy.Value;
    public static SamConfig Config => ConfigLazy.Value.Sam;
    /// <summary>model.safetensors of the tiny checkpoint (shared: do not dispose).</summary>
    public static IReadOnlyDictionary<string, Tensor> CheckpointWeights => Weights.Value;
    public static SamModel Model => ModelLazy.Value;
    /// <summary>Our image embeddings of the golden resized image (shared: do not dispose).</summary>
    public static Tensor Embeddings => EmbeddingsLazy.Value;

    public static int ImageH => Fixtures.GoldenJson.GetProperty("image_size_hw")[0].GetInt32();
    public static int ImageW => Fixtures.GoldenJson.GetProperty("image_size_hw")[1].GetInt32();

    /// <summary>
    /// scene.png as RGB uint8 H×W×3: rows 64..447 of clip_padded_image_u8 (LLaVA pads the 512×384 scene to a square
    /// with white, centred vertically); the test that uses it checks the padding is white.
    /// </summary>
    public static Tensor Scene()
    {
        var padded = Golden.Get("clip_padded_image_u8");
        int side = (int)padded.shape[0], top = (side - ImageH) / 2;
        return padded[top..(top + ImageH), .., ..].clone();
    }
}
