using TorchSharp.Modules;
using ULlava.Perception.Model.Config;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Clip;

/// <summary>HF <c>CLIPEncoder</c>: the stack of layers; runs only the first <c>count</c> of them.</summary>
internal sealed class ClipEncoder : nn.Module<Tensor, int, Tensor>
{
    private readonly ModuleList<ClipEncoderLayer> layers;

    public ClipEncoder(ClipVisionConfig config) : base(nameof(ClipEncoder))
    {
        layers = new ModuleList<ClipEncoderLayer>();
        for (int i = 0; i < config.NumHiddenLayers; i++) layers.Add(new ClipEncoderLayer(config));
        RegisterComponents();
    }

    public int Count => layers.Count;

    /// <param name="x">Embeddings after pre_layrnorm, [B, L, C].</param>
    /// <param name="count">How many layers to run: the result is HF's hidden_states[count].</param>
    public override Tensor forward(Tensor x, int count)
    {
        if (count < 0 || count > layers.Count) throw new ArgumentOutOfRangeException(nameof(count), count, $"0..{layers.Count}");
        using var scope = NewDisposeScope();
        var h = x.alias();
        for (int i = 0; i < count; i++) h = layers[i].call(h);
        return h.MoveToOuterDisposeScope();
    }
}
