using TorchSharp;
using TorchSharp.Modules;
using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Native;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Llama;

/// <summary>Grouped-query causal self-attention with rotary positions and an optional KV cache.</summary>
public sealed class LlamaAttention : nn.Module
{
    private static readonly Scalar NegativeInfinity = float.NegativeInfinity.ToScalar();

    private readonly int _heads;
    private readonly int _kvHeads;
    private readonly int _headDim;
    private readonly int _layerIndex;
    private readonly double _scaling;

    private readonly Linear q_proj;
    private readonly Linear k_proj;
    private readonly Linear v_proj;
    private readonly Linear o_proj;

    // Set by FuseProjections: q, k and v stacked in one matrix (one GEMM a layer instead of three).
    private Tensor? _qkvWeight;
    private Tensor? _qkvBias;

    public LlamaAttention(LlamaConfig config, int layerIndex, Device? device = null, ScalarType? dtype = null, string name = "self_attn")
        : base(name)
    {
        _heads = config.NumAttentionHeads;
        _kvHeads = config.KeyValueHeads;
        _headDim = config.HeadDim;
        _layerIndex = layerIndex;
        _scaling = 1.0 / Math.Sqrt(_headDim);
        if (_heads % _kvHeads != 0)
            throw new InvalidDataException($"num_attention_heads {_heads} is not a multiple of num_key_value_heads {_kvHeads}");
        q_proj = nn.Linear(config.HiddenSize, _heads * _headDim, config.AttentionBias, device, dtype);
        k_proj = nn.Linear(config.HiddenSize, _kvHeads * _headDim, config.AttentionBias, device, dtype);
        v_proj = nn.Linear(config.HiddenSize, _kvHeads * _headDim, config.AttentionBias, device, dtype);
        o_proj = nn.Linear(_heads * _headDim, config.HiddenSize, config.AttentionBias, device, dtype);
        RegisterComponents();
    }

    /// <summary>
    /// The one place the attention kernel is chosen. Measured on the dev CPU (AMD EPYC, AVX2 without AVX512-BF16, one
    /// thread): for a block of queries (prefill) the fused kernel wins everywhere: float32 ~1.6x, bfloat16 ~20x at
    /// LLaMA-7B head shapes, where bf16 batched matmul has no fast path. For one decode query the two are even in float32
    /// and plain matmul is ~1.4x faster in bfloat16. CUDA always takes the fused kernel.
    /// </summary>
    public static AttentionKernel DefaultKernel(Device device, ScalarType dtype, long queryLength) =>
        device.type == DeviceType.CUDA || queryLength > 1 ? AttentionKernel.ScaledDotProduct : AttentionKernel.MatmulSoftmax;

    /// <summary>
    /// Training only: called with this layer's index and its rotated queries, keys and values [B, heads, T, D] (KV heads
    /// repeated) before attention, to supervise where a position looks and what it reads. Tensors it makes are this
    /// forward's: detach what it keeps.
    /// </summary>
    public Action<int, Tensor, Tensor, Tensor>? AttentionInputsObserver { get; set; }

    /// <summary>
    /// hidden [B,T,H] → [B,T,H]. cos and signedSin [B,T,D] are the rotary tables (<see cref="LlamaRotaryEmbedding.SignedSin"/>).
    /// <paramref name="allowed"/> is the causal mask [T, past+T] (true = may attend), null for a single decode token;
    /// <paramref name="cache"/> receives this layer's keys/values after its valid positions. With <paramref name="addTo"/>
    /// (inference only) the output projection is added into that tensor in place and it is returned.
    /// </summary>
    public Tensor forward(Tensor hidden, Tensor cos, Tensor signedSin, Tensor? allowed, KvCache? cache, AttentionKernel kernel, Tensor? addTo = null)
    {
        using var scope = NewDisposeScope();
        long b = hidden.shape[0], t = hidden.shape[1];
        Tensor q, k, v;
        if (_qkvWeight is not null)
        {
            // One GEMM, then q and k rotated together as [B,T,heads+kv_heads,D]: three kernels for both instead of six.
            var qkv = nn.functional.linear(hidden, _qkvWeight, _qkvBias);
            long qkWidth = (_heads + _kvHeads) * _headDim;
            var qk = LlamaRotaryEmbedding.Rotate(qkv.narrow(-1, 0, qkWidth).view(b, t, _heads + _kvHeads, _headDim),
                cos.unsqueeze(2), signedSin.unsqueeze(2));
            q = qk.narrow(2, 0, _heads).transpose(1, 2);
            k = qk.narrow(2, _heads, _kvHeads).transpose(1, 2);
            v = qkv.narrow(-1, qkWidth, _kvHeads * _headDim).view(b, t, _kvHeads, _headDim).transpose(1, 2);
        }
        else
        {
            q = q_proj.forward(hidden).view(b, t, _heads, _headDim).transpose(1, 2);
            k = k_proj.forward(hidden).view(b, t, _kvHeads, _headDim).transpose(1, 2);
            v = v_proj.forward(hidden).view(b, t, _kvHeads, _headDim).transpose(1, 2);
            var (c, s) = (cos.unsqueeze(1), signedSin.unsqueeze(1));
            (q, k) = (LlamaRotaryEmbedding.Rotate(q, c, s), LlamaRotaryEmbedding.Rotate(k, c, s));
        }
        if (cache is not null) (k, v) = cache.Append(_layerIndex, k, v);
        k = RepeatKv(k);
        v = RepeatKv(v);
        AttentionInputsObserver?.Invoke(_layerIndex, q, k, v);

        Tensor attn;
        if (kernel == AttentionKernel.ScaledDotProduct)
        {
            // SDPA's own is_causal aligns the mask top-left, wrong after a cached prefix: pass the mask explicitly.
            attn = nn.functional.scaled_dot_product_attention(q, k, v, allowed);
        }
        else
        {
            using var scaling = _scaling.ToScalar();
            var weights = matmul(q, k.transpose(2, 3)) * scaling;
            if (allowed is not null) weights = weights.masked_fill(allowed.logical_not(), NegativeInfinity);
            attn = matmul(weights.softmax(-1, ScalarType.Float32).to_type(q.dtype), v);
        }
        attn = attn.transpose(1, 2).reshape(b, t, _heads * _headDim);
        if (addTo is not null) return ResidualGemm.AddInto(addTo, attn, o_proj);
        return o_proj.forward(attn).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// For inference once the weights are final (loaded, cast, on their device): q, k and v become one stacked matrix and the
    /// three projections views into it, so no memory is added. Moving or casting the model afterwards would break the
    /// sharing; the engine does neither.
    /// </summary>
    public void FuseProjections()
    {
        if (_qkvWeight is not null) return;
        using var noGrad = no_grad();
        _qkvWeight = StackInto(new[] { q_proj, k_proj, v_proj }, out _qkvBias);
    }

    /// <summary>Concatenates the Linears' weights (and biases) along the output rows and points each Linear at its slice.</summary>
    internal static Tensor StackInto(Linear[] linears, out Tensor? bias)
    {
        var weight = cat(linears.Select(l => l.weight!).ToArray(), 0).DetachFromDisposeScope();
        bias = linears[0].bias is null ? null : cat(linears.Select(l => l.bias!).ToArray(), 0).DetachFromDisposeScope();
        long row = 0;
        foreach (var l in linears)
        {
            var (oldWeight, oldBias) = (l.weight!, l.bias);
            long rows = oldWeight.shape[0];
            l.weight = new Parameter(weight.narrow(0, row, rows), requires_grad: false);
            if (bias is not null) l.bias = new Parameter(bias.narrow(0, row, rows), requires_grad: false);
            oldWeight.Dispose(); // now a copy inside the stacked matrix: free it at once, not at the next GC
            oldBias?.Dispose();
            row += rows;
        }
        return weight;
    }

    // [B, kv_heads, S, D] → [B, heads, S, D], each KV head serving heads/kv_heads consecutive query heads (HF repeat_kv).
    private Tensor RepeatKv(Tensor x)
    {
        int groups = _heads / _kvHeads;
        if (groups == 1) return x;
        long b = x.shape[0], s = x.shape[2];
        return x.unsqueeze(2).expand(b, _kvHeads, groups, s, _headDim).reshape(b, _heads, s, _headDim);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            q_proj.Dispose();
            k_proj.Dispose();
            v_proj.Dispose();
            o_proj.Dispose();
            _qkvWeight?.Dispose();
            _qkvBias?.Dispose();
        }
        base.Dispose(disposing);
    }
}
