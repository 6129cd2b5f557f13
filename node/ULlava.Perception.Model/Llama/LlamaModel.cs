using TorchSharp;
using TorchSharp.Modules;
using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Native;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Llama;

/// <summary>The LLaMA trunk (HF <c>LlamaModel</c>): token embedding, decoder layers, final RMSNorm.</summary>
public sealed class LlamaModel : nn.Module
{
    private readonly Embedding embed_tokens;
    private readonly ModuleList<LlamaDecoderLayer> layers;
    private readonly LlamaRmsNorm norm;
    private readonly LlamaRotaryEmbedding _rotary;

    public LlamaModel(LlamaConfig config, Device? device = null, ScalarType? dtype = null, string name = "model") : base(name)
    {
        Config = config;
        embed_tokens = nn.Embedding(config.VocabSize, config.HiddenSize, device: device, dtype: dtype);
        layers = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers)
            .Select(i => new LlamaDecoderLayer(config, i, device, dtype)).ToArray());
        norm = new LlamaRmsNorm(config.HiddenSize, config.RmsNormEps, device, dtype, "norm");
        _rotary = new LlamaRotaryEmbedding(config);
        RegisterComponents();
    }

    public LlamaConfig Config { get; }

    public Embedding EmbedTokens => embed_tokens;

    public LlamaRotaryEmbedding Rotary => _rotary;

    /// <summary>Stacks each layer's q/k/v and gate/up weights for inference; only once the weights are final (see LlamaAttention).</summary>
    public void FuseProjections()
    {
        foreach (var layer in layers) ((LlamaDecoderLayer)layer).FuseProjections();
        ProjectionsFused = true;
    }

    public bool ProjectionsFused { get; private set; }

    /// <summary>Whether every RMSNorm runs as one fused kernel or as Hugging Face's elementwise formula (the default; the engine fuses on CUDA).</summary>
    public bool FusedNorms
    {
        get => modules().OfType<LlamaRmsNorm>().All(n => n.Fused);
        set
        {
            foreach (var n in modules().OfType<LlamaRmsNorm>()) n.Fused = value;
        }
    }

    /// <summary>
    /// Inference (no autograd): add each block's output to the residual stream inside its last projection's GEMM, two
    /// kernels fewer a layer (true, the default; off to time the difference; training always adds apart).
    /// </summary>
    public bool ResidualsInGemms { get; set; } = true;

    /// <summary>Training only: every layer's <see cref="LlamaAttention.AttentionInputsObserver"/> (null: none).</summary>
    public void ObserveAttentionInputs(Action<int, Tensor, Tensor, Tensor>? observer)
    {
        foreach (var attention in modules().OfType<LlamaAttention>()) attention.AttentionInputsObserver = observer;
    }

    /// <summary>
    /// inputs_embeds [B,T,H] → final-norm hidden states [B,T,H]. With a cache the tokens sit after its valid positions and
    /// their keys/values are appended to it. <paramref name="kernel"/> null: <see cref="LlamaAttention.DefaultKernel"/>.
    /// <paramref name="packing"/> (no cache) gives each token's position and what it may see instead of the causal sequence.
    /// </summary>
    public Tensor forward(Tensor inputsEmbeds, KvCache? cache, AttentionKernel? kernel = null, PackedLayout? packing = null)
    {
        using var scope = NewDisposeScope();
        var weight = embed_tokens.weight!;
        var hidden = inputsEmbeds.to(weight.dtype, weight.device);
        long b = hidden.shape[0], t = hidden.shape[1];
        int past = cache?.Length ?? 0;
        if (cache is not null)
        {
            if (cache.Layers != layers.Count) throw new ArgumentException($"cache has {cache.Layers} layers, model {layers.Count}");
            if (cache.DType != hidden.dtype)
                throw new ArgumentException($"cache holds {cache.DType}, model computes in {hidden.dtype}: create it with CreateCache");
            if (past + t > cache.MaxLength)
                throw new InvalidOperationException($"KV cache full: {past} + {t} positions exceed its {cache.MaxLength}");
        }

        // Held Scalars, the step included: arange(start, stop) would pass an implicit 1 (see Native/ScalarOps).
        using var start = past.ToScalar();
        using var stop = (past + t).ToScalar();
        if (packing is not null)
        {
            if (cache is not null) throw new ArgumentException("packed rows run without a cache", nameof(packing));
            if (!packing.Positions.shape.SequenceEqual(new[] { b, t }) || !packing.Allowed.shape.SequenceEqual(new[] { b, 1, t, t }))
                throw new ArgumentException($"packing for [{b},{t}] rows needs positions [{b},{t}] and a mask [{b},1,{t},{t}], got [{string.Join(",", packing.Positions.shape)}] and [{string.Join(",", packing.Allowed.shape)}]", nameof(packing));
        }
        var positions = packing?.Positions.to(hidden.device) ?? arange(start, stop, ScalarOps.One, dtype: ScalarType.Int64, device: hidden.device).unsqueeze(0).expand(b, t);
        long tableLength = packing is null ? past + t : packing.Positions.max().item<long>() + 1;
        var (cos, sin) = _rotary.Forward(positions, tableLength, hidden.dtype);
        var signedSin = LlamaRotaryEmbedding.SignedSin(sin);
        // A single new token may see every cached position; longer blocks need the causal mask (bottom-right aligned).
        Tensor? allowed = packing?.Allowed.to(hidden.device);
        if (t > 1 && packing is null)
        {
            var keyPos = arange(ScalarOps.Zero, stop, ScalarOps.One, dtype: ScalarType.Int64, device: hidden.device).unsqueeze(0);
            var queryPos = arange(start, stop, ScalarOps.One, dtype: ScalarType.Int64, device: hidden.device).unsqueeze(1);
            allowed = keyPos <= queryPos;
        }

        var attention = kernel ?? LlamaAttention.DefaultKernel(hidden.device, hidden.dtype, t);
        // Without autograd the residual adds go into the projections' GEMMs; from the second layer on into the stream itself
        // (the first layer's input may be the caller's tensor).
        bool inGemms = ResidualsInGemms && !is_grad_enabled();
        for (int i = 0; i < layers.Count; i++)
            hidden = ((LlamaDecoderLayer)layers[i]).forward(hidden, cos, signedSin, allowed, cache, attention, inGemms, overwriteHidden: inGemms && i > 0);
        cache?.Advance((int)t);
        return norm.forward(hidden).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            embed_tokens.Dispose();
            foreach (var layer in layers) layer.Dispose();
            layers.Dispose();
            norm.Dispose();
        }
        base.Dispose(disposing);
    }
}
