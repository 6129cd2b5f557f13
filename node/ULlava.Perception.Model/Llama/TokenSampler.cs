using TorchSharp;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Llama;

/// <summary>Picks the next token from logits [B,V]: argmax, or temperature + top-p (HF's warpers) with a seeded generator.</summary>
public sealed class TokenSampler : IDisposable
{
    // Held: an implicitly converted Scalar may be finalized while the op reads it (see Native/ScalarOps).
    private static readonly Scalar False = false.ToScalar();
    private static readonly Scalar NegativeInfinity = float.NegativeInfinity.ToScalar();

    private readonly GenerationOptions _options;
    private Generator? _generator;

    public TokenSampler(GenerationOptions options)
    {
        if (options.TopP is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(options), options.TopP, "top_p must be in (0, 1]");
        _options = options;
    }

    /// <summary>logits [B,V] → token ids [B] (int64).</summary>
    public Tensor Next(Tensor logits)
    {
        if (_options.IsGreedy) return logits.argmax(-1);
        using var scope = NewDisposeScope();
        using var temperature = _options.Temperature.ToScalar();
        var scores = logits.to_type(ScalarType.Float32) / temperature;
        if (_options.TopP < 1.0)
        {
            // Drop the least likely tokens whose cumulative probability stays within 1 - top_p; always keep the best.
            var (sorted, order) = scores.sort(-1, descending: false);
            var cumulative = sorted.softmax(-1).cumsum(-1);
            using var keepBelow = (1 - _options.TopP).ToScalar();
            var removeSorted = cumulative <= keepBelow;
            removeSorted.narrow(-1, removeSorted.shape[^1] - 1, 1).fill_(False);
            var remove = removeSorted.scatter(-1, order, removeSorted);
            scores = scores.masked_fill(remove, NegativeInfinity);
        }
        _generator ??= new Generator(_options.Seed, logits.device);
        var probs = scores.softmax(-1);
        return multinomial(probs, 1, generator: _generator).squeeze(-1).MoveToOuterDisposeScope();
    }

    public void Dispose() => _generator?.Dispose();
}
