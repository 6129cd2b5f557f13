using TorchSharp.Modules;
using ULlava.Perception.Model.Config;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Clip;

/// <summary>HF <c>CLIPAttention</c>: bidirectional multi-head attention, all projections with bias.</summary>
internal sealed class ClipAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear k_proj;
    private readonly Linear v_proj;
    private readonly Linear q_proj;
    private readonly Linear out_proj;
    private readonly int _heads;
    private readonly int _headDim;

    public ClipAttention(ClipVisionConfig config) : base(nameof(ClipAttention))
    {
        if (config.HiddenSize % config.NumAttentionHeads != 0)
            throw new ArgumentException($"hidden_size {config.HiddenSize} is not divisible by num_attention_heads {config.NumAttentionHeads}");
        _heads = config.NumAttentionHeads;
        _headDim = config.HiddenSize / config.NumAttentionHeads;
        k_proj = nn.Linear(config.HiddenSize, config.HiddenSize);
        v_proj = nn.Linear(config.HiddenSize, config.HiddenSize);
        q_proj = nn.Linear(config.HiddenSize, config.HiddenSize);
        out_proj = nn.Linear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], l = x.shape[1], c = x.shape[2];
        Tensor Split(Tensor t) => t.view(b, l, _heads, _headDim).transpose(1, 2);
        var q = Split(q_proj.call(x));
        var k = Split(k_proj.call(x));
        var v = Split(v_proj.call(x));
        // SDPA's default scale is 1/sqrt(head_dim), as CLIP's.
        var attn = nn.functional.scaled_dot_product_attention(q, k, v);
        var y = out_proj.call(attn.transpose(1, 2).reshape(b, l, c));
        return y.MoveToOuterDisposeScope();
    }
}
