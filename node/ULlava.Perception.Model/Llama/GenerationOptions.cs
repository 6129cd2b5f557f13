namespace ULlava.Perception.Model.Llama;

/// <summary>Decoding settings. Temperature 0 (the default) is greedy; above 0 samples with top-p from a seeded generator.</summary>
public sealed record GenerationOptions
{
    public int MaxNewTokens { get; init; } = 256;
    /// <summary>0: greedy (argmax). Otherwise logits are divided by it before top-p sampling.</summary>
    public double Temperature { get; init; }
    /// <summary>Nucleus sampling: keep the most likely tokens whose probabilities sum to at least this (1: keep all).</summary>
    public double TopP { get; init; } = 1.0;
    /// <summary>Seed of the sampling generator, so a sampled answer can be reproduced.</summary>
    public ulong Seed { get; init; } = 42;
    /// <summary>Tokens that end a sequence (generated and returned, then the row stops); empty: the config's eos_token_id.</summary>
    public IReadOnlyList<long> EosTokenIds { get; init; } = [];
    /// <summary>Keep the logits that chose each token (costs B×V per step).</summary>
    public bool ReturnStepLogits { get; init; }
    /// <summary>Stops between steps (the result then has <see cref="StopReason.Cancelled"/>).</summary>
    public CancellationToken CancellationToken { get; init; }

    public bool IsGreedy => Temperature <= 0;
}
