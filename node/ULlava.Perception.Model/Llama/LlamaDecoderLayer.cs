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

    /// <summary>
    /// Adds both blocks' outputs to the residual stream. With <paramref name="residualsInGemms"/> (inference only: autograd
    /// refuses in-place updates of what it saved) each add happens inside its projection's GEMM (addmm_ with beta 1, one
    /// kernel instead of two), into <paramref name="hidden"/> itself when <paramref name="overwriteHidden"/> (the caller
    /// owns it and needs it no more; it is then returned), else into a copy.
    /// </summary>
    public Tensor forward(Tensor hidden, Tensor cos, Tensor signedSin, Tensor? allowed, KvCache? cache, AttentionKernel kernel,
        bool residualsInGemms = false, bool overwriteHidden = false)
    {
        using var scope = NewDisposeScope();
        if (residualsInGemms)
        {
            if (is_grad_enabled()) throw new InvalidOperationException("residuals are added in place only without autograd (no_grad)");
            bool inPlace = overwriteHidden && hidden.is_contiguous();
            var residual = inPlace ? hidden : hidden.clone().contiguous();
            self_attn.forward(input_layernorm.forward(residual), cos, signedSin, allowed, cache, kernel, addTo: residual);
            mlp.Forward(post_attention_layernorm.forward(residual), addTo: residual);
            return inPlace ? residual : residual.MoveToOuterDisposeScope();
        }
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
