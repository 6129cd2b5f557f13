using TorchSharp;
using TorchSharp.Modules;
using ULlava.Perception.Model.Config;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Clip;

/// <summary>
/// Hugging Face <c>CLIPVisionModel</c> as u-LLaVA uses it (<c>llm.vision_encoder</c>): the features are
/// hidden_states[vision_hidden_layer] with the CLS token dropped, [B, 256, C] for 224 px / patch 14.
/// State-dict keys equal the checkpoint's under <c>llm.vision_encoder.</c>; post_layernorm is loaded
/// but unused, since u-LLaVA never reads the pooled output.
/// </summary>
public sealed class ClipVisionTower : nn.Module<Tensor, Tensor>
{
    private readonly ClipVisionEmbeddings embeddings;
    // HF's spelling, kept so the keys match.
    private readonly LayerNorm pre_layrnorm;
    private readonly ClipEncoder encoder;
    private readonly LayerNorm post_layernorm;

    public ClipVisionTower(ClipVisionConfig config, int visionHiddenLayer = -2, string name = "vision_encoder") : base(name)
    {
        Config = config;
        embeddings = new ClipVisionEmbeddings(config);
        pre_layrnorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        encoder = new ClipEncoder(config);
        post_layernorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        LayersRun = ToLayerCount(visionHiddenLayer);
        VisionHiddenLayer = visionHiddenLayer;
        RegisterComponents();
    }

    /// <summary>Builds the tower from the <c>llm_config</c> block: vision_config and vision_hidden_layer.</summary>
    public ClipVisionTower(LlamaConfig llmConfig) : this(llmConfig.VisionConfig, llmConfig.VisionHiddenLayer) { }

    public ClipVisionConfig Config { get; }

    /// <summary>Index into HF's hidden_states (negative counts from the end) that <see cref="forward"/> returns.</summary>
    public int VisionHiddenLayer { get; }

    /// <summary>Encoder layers one forward pass runs (the rest are never evaluated).</summary>
    public int LayersRun { get; }

    /// <summary>Patch features for the projector: hidden_states[VisionHiddenLayer][:, 1:], [B, N, C].</summary>
    /// <param name="pixelValues">Normalised pixels [B, 3, H, W] (any float dtype; cast to the weights').</param>
    public override Tensor forward(Tensor pixelValues)
    {
        using var scope = NewDisposeScope();
        var h = Run(pixelValues, LayersRun);
        return h[.., 1..].MoveToOuterDisposeScope();
    }

    /// <summary>HF's hidden_states[index] including CLS, [B, 1+N, C]; 0 is the embeddings after pre_layrnorm, -1 the last layer.</summary>
    public Tensor HiddenState(Tensor pixelValues, int index)
    {
        using var scope = NewDisposeScope();
        return Run(pixelValues, ToLayerCount(index)).MoveToOuterDisposeScope();
    }

    private Tensor Run(Tensor pixelValues, int layers)
    {
        if (pixelValues.dim() != 4 || pixelValues.shape[1] != Config.NumChannels)
            throw new ArgumentException($"pixel values must be [B, {Config.NumChannels}, H, W], got [{string.Join(", ", pixelValues.shape)}]", nameof(pixelValues));
        if (pixelValues.shape[2] != Config.ImageSize || pixelValues.shape[3] != Config.ImageSize)
            throw new ArgumentException($"pixel values must be {Config.ImageSize}×{Config.ImageSize} (no position interpolation), got {pixelValues.shape[2]}×{pixelValues.shape[3]}", nameof(pixelValues));
        return encoder.call(pre_layrnorm.call(embeddings.call(pixelValues)), layers);
    }

    // hidden_states has NumHiddenLayers + 1 entries: entry i is the state after i layers.
    private int ToLayerCount(int index)
    {
        int n = Config.NumHiddenLayers;
        int count = index < 0 ? n + 1 + index : index;
        if (count < 0 || count > n)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"hidden state index must be in [{-(n + 1)}, {n}] for {n} layers");
        return count;
    }
}
