using TorchSharp;
using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Native;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Llama;

/// <summary>Pre-norm decoder block: x + attn(norm(x)), then x + mlp(norm(x)).</summary>
public sealed class LlamaDecoderLayer : nn.Module
{
    private readonly LlamaAttention self_attn;
    private readonly LlamaMlp mlp;
    private readonly LlamaRmsNorm input_layernorm;
    private readonly LlamaRmsNorm post_attention_layernorm;

    public LlamaDecoderLayer(LlamaConfig config, int layerIndex, Device? device = null, ScalarType? dtype = null)
        : base($"layers.{layerIndex}")
    {
        self_attn = new LlamaAttention(config, layerIndex, device, dtype);
        mlp = new LlamaMlp(config, device, dtype);
        input_layernorm = new LlamaRmsNorm(config.HiddenSize, config.RmsNormEps, device, dtype, "input_layernorm");
        post_attention_layernorm = new LlamaRmsNorm(config.HiddenSize, config.RmsNormEps, device, dtype, "post_attention_layernorm");
        RegisterComponents();
    }

    /// <summary>Stacks the attention's q/k/v and the MLP's gate/up weights for inference (fewer, larger GEMMs).</summary>
    public void FuseProjections()
    {
        self_attn.FuseProjections();
        mlp.FuseProjections();
    }

    public Tensor forward(Tensor hidden, Tensor cos, Tensor signedSin, Tensor? allowed, KvCache? cache, AttentionKernel kernel)
    {
        using var scope = NewDisposeScope();
        var h = hidden.Plus(self_attn.forward(input_layernorm.forward(hidden), cos, signedSin, allowed, cache, kernel));
        h = h.Plus(mlp.forward(post_attention_layernorm.forward(h)));
        return h.MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            self_attn.Dispose();
            mlp.Dispose();
            input_layernorm.Dispose();
            post_attention_layernorm.Dispose();
        }
        base.Dispose(disposing);
    }
}
