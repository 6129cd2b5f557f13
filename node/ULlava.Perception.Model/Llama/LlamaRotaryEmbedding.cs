using TorchSharp;
using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Native;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Llama;

/// <summary>
/// Rotary position embedding with Hugging Face's rope_scaling variants (default, linear, dynamic NTK, llama3).
/// Not a module: it has no weights (HF's inv_freq is a non-persistent buffer), so nothing lands in the state dict.
/// </summary>
public sealed class LlamaRotaryEmbedding
{
    // Held: an implicitly converted Scalar may be finalized while the op reads it (see Native/ScalarOps).
    private static readonly Scalar ArangeStep = 2.ToScalar();
    private static readonly Scalar OneF = 1.0f.ToScalar();
    private static readonly Scalar TwoPi = (2 * Math.PI).ToScalar();

    private readonly int _dim;
    private readonly double _base;
    private readonly RopeScalingConfig? _scaling;
    private readonly long _originalMaxPositions;
    // Frequencies that do not depend on the sequence length (all but dynamic NTK), float32 on the CPU.
    private readonly float[]? _fixedInvFreq;

    public LlamaRotaryEmbedding(LlamaConfig config)
    {
        _dim = config.HeadDim;
        _base = config.RopeTheta;
        _scaling = config.RopeScaling;
        _originalMaxPositions = _scaling?.OriginalMaxPositionEmbeddings ?? config.MaxPositionEmbeddings;
        RopeType = _scaling?.Kind ?? "default";
        if (RopeType is not ("default" or "linear" or "dynamic" or "llama3"))
            throw new NotSupportedException($"rope_scaling type '{RopeType}' is not supported (default, linear, dynamic, llama3)");
        if (RopeType != "dynamic") _fixedInvFreq = ComputeInvFreq(_originalMaxPositions);
    }

    public string RopeType { get; }

    /// <summary>HF's attention_scaling: 1 for every supported rope type.</summary>
    public double AttentionScaling => 1.0;

    /// <summary>
    /// The inverse frequencies [head_dim/2] (float32) used for a sequence of <paramref name="sequenceLength"/> positions.
    /// Only dynamic NTK depends on the length: it enlarges the base once the length passes the original context.
    /// </summary>
    public float[] InverseFrequencies(long sequenceLength) =>
        _fixedInvFreq is { } f ? (float[])f.Clone() : ComputeInvFreq(sequenceLength);

    /// <summary>
    /// cos and sin [B,T,head_dim] in <paramref name="dtype"/> for <paramref name="positions"/> [B,T] (integer or fractional).
    /// <paramref name="sequenceLength"/> is the longest sequence these positions belong to (past + new tokens).
    /// </summary>
    /// <remarks>
    /// Dynamic NTK differs from HF on purpose in one respect: HF keeps the largest length seen so far across calls, so its
    /// output depends on earlier calls; here the scaling follows the length of the sequence being computed, which is what
    /// HF gives for a single prefill-then-decode run and keeps a reused prefix cache equivalent to a fresh prefill.
    /// </remarks>
    public (Tensor Cos, Tensor Sin) Forward(Tensor positions, long sequenceLength, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var invFreq = tensor(InverseFrequencies(sequenceLength), dtype: ScalarType.Float32, device: positions.device);
        // Float32 like HF (which also disables autocast here): the angle is the precision-critical part.
        var freqs = positions.to_type(ScalarType.Float32).unsqueeze(-1) * invFreq;
        var emb = cat(new[] { freqs, freqs }, -1);
        var cos = emb.cos();
        var sin = emb.sin();
        if (AttentionScaling != 1.0)
        {
            using var attentionScaling = AttentionScaling.ToScalar();
            cos = cos * attentionScaling;
            sin = sin * attentionScaling;
        }
        return (cos.to_type(dtype).MoveToOuterDisposeScope(), sin.to_type(dtype).MoveToOuterDisposeScope());
    }

    /// <summary>Rotates query [B,heads,T,D] and key by cos/sin [B,T,D] (HF's apply_rotary_pos_emb, rotate_half convention).</summary>
    public static (Tensor Query, Tensor Key) Apply(Tensor query, Tensor key, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        var c = cos.unsqueeze(1);
        var s = SignedSin(sin).unsqueeze(1);
        return (Rotate(query, c, s).MoveToOuterDisposeScope(), Rotate(key, c, s).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// sin with its first half negated: rotate_half(x)·sin = roll(x, D/2)·SignedSin(sin). Computed once per forward pass
    /// and shared by every layer.
    /// </summary>
    public static Tensor SignedSin(Tensor sin)
    {
        long half = sin.shape[^1] / 2;
        return cat(new[] { -sin.narrow(-1, 0, half), sin.narrow(-1, half, half) }, -1);
    }

    /// <summary>
    /// x·cos + rotate_half(x)·sin as one roll and one addcmul (instead of narrow, neg, cat, mul and add): fewer kernel
    /// launches in every layer of every decoded token. cos and signedSin broadcast against x (head dim last).
    /// </summary>
    public static Tensor Rotate(Tensor x, Tensor cos, Tensor signedSin) =>
        addcmul(x * cos, x.roll(x.shape[^1] / 2, -1), signedSin, ScalarOps.One);

    private float[] ComputeInvFreq(long sequenceLength)
    {
        double theta = _base;
        if (RopeType == "dynamic")
        {
            double factor = _scaling!.Factor;
            long seqLen = Math.Max(sequenceLength, _originalMaxPositions);
            theta = _base * Math.Pow(factor * seqLen / _originalMaxPositions - (factor - 1), _dim / (_dim - 2.0));
        }

        // HF computes base ** (arange(0, dim, 2) / dim) and its reciprocal in float32: do the same so angles agree.
        using var scope = NewDisposeScope();
        // Host-side tables: explicit CPU, so a model built on the meta device (shapes only) still gets them.
        using var dim = _dim.ToScalar();
        using var thetaValue = theta.ToScalar();
        var exponents = arange(ScalarOps.Zero, dim, ArangeStep, dtype: ScalarType.Int64, device: CPU).to_type(ScalarType.Float32) / dim;
        var invFreq = OneF / pow(full(1, thetaValue, dtype: ScalarType.Float32, device: CPU), exponents);

        switch (RopeType)
        {
            case "linear":
                using (var linearFactor = _scaling!.Factor.ToScalar())
                    invFreq = invFreq / linearFactor;
                break;
            case "llama3":
                invFreq = Llama3Scale(invFreq, _scaling!);
                break;
        }
        return invFreq.data<float>().ToArray();
    }

    // transformers' _compute_llama3_parameters: long wavelengths are divided by factor, short ones kept, the band between smoothed.
    private static Tensor Llama3Scale(Tensor invFreq, RopeScalingConfig s)
    {
        double factor = s.Factor;
        double low = s.LowFreqFactor ?? throw new InvalidDataException("llama3 rope_scaling needs low_freq_factor");
        double high = s.HighFreqFactor ?? throw new InvalidDataException("llama3 rope_scaling needs high_freq_factor");
        double oldContext = s.OriginalMaxPositionEmbeddings
            ?? throw new InvalidDataException("llama3 rope_scaling needs original_max_position_embeddings");
        double lowFreqWavelen = oldContext / low;
        double highFreqWavelen = oldContext / high;

        using var factorS = factor.ToScalar();
        using var lowS = low.ToScalar();
        using var bandS = (high - low).ToScalar();
        using var oldContextS = oldContext.ToScalar();
        using var lowFreqWavelenS = lowFreqWavelen.ToScalar();
        using var highFreqWavelenS = highFreqWavelen.ToScalar();
        var wavelen = TwoPi / invFreq;
        var scaled = where(wavelen > lowFreqWavelenS, invFreq / factorS, invFreq);
        var smooth = (oldContextS / wavelen - lowS) / bandS;
        var smoothed = (smooth.SubtractedFrom(ScalarOps.One) * scaled / factorS).Plus(smooth * scaled);
        var isMedium = (wavelen < highFreqWavelenS).logical_not().logical_and((wavelen > lowFreqWavelenS).logical_not());
        return where(isMedium, smoothed, scaled);
    }
}
