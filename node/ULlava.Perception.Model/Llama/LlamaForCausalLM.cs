using TorchSharp;
using TorchSharp.Modules;
using ULlava.Perception.Model.Config;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Llama;

/// <summary>
/// HF <c>LlamaForCausalLM</c>: state-dict keys <c>model.*</c> and <c>lm_head.weight</c>, so a u-LLaVA root that registers it
/// as <c>llm</c> (beside <c>llm.vision_encoder</c> / <c>llm.vision_projector</c>) loads the checkpoint's <c>llm.*</c> keys as-is.
/// </summary>
public sealed class LlamaForCausalLM : nn.Module<LlamaInput, LlamaOutput>
{
    private readonly LlamaModel model;
    private readonly Linear lm_head;

    /// <param name="device">Where the weights are created (then usually overwritten by load_state_dict).</param>
    /// <param name="dtype">Create the weights in this dtype directly (halves peak memory for a 7B bf16 load).</param>
    public LlamaForCausalLM(LlamaConfig config, Device? device = null, ScalarType? dtype = null, string name = "llm") : base(name)
    {
        Config = config;
        model = new LlamaModel(config, device, dtype);
        lm_head = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false, device, dtype);
        // Tied checkpoints carry no lm_head.weight; sharing the Parameter makes both keys name one tensor.
        if (config.TieWordEmbeddings) lm_head.weight = model.EmbedTokens.weight!;
        RegisterComponents();
    }

    public LlamaConfig Config { get; }

    public LlamaModel Model => model;

    /// <summary>Forces an attention kernel; null: <see cref="LlamaAttention.DefaultKernel"/> per pass (device, dtype, query count).</summary>
    public AttentionKernel? Kernel { get; set; }

    public ScalarType DType => lm_head.weight!.dtype;

    public Device Device => lm_head.weight!.device;

    /// <summary>embed_tokens(ids): [B,T] → [B,T,H], for splicing image/video features in before <see cref="forward"/>.</summary>
    public Tensor Embed(Tensor inputIds) => model.EmbedTokens.forward(inputIds.to(Device));

    /// <summary>A cache for this model's layers, dtype and device.</summary>
    public KvCache CreateCache(int maxLength, long batchSize = 1) =>
        new(Config.NumHiddenLayers, batchSize, Config.KeyValueHeads, Config.HeadDim, maxLength, DType, Device);

    public override LlamaOutput forward(LlamaInput input)
    {
        using var scope = NewDisposeScope();
        var embeds = (input.InputsEmbeds, input.InputIds) switch
        {
            ({ } e, null) => e,
            (null, { } ids) => Embed(ids),
            _ => throw new ArgumentException("give exactly one of InputIds and InputsEmbeds", nameof(input)),
        };
        if (embeds.dim() != 3 || embeds.shape[1] == 0)
            throw new ArgumentException($"inputs must be [B,T,H] with T ≥ 1, got [{string.Join(",", embeds.shape)}]", nameof(input));
        if (input.Packing is not null && input.Cache is not null)
            throw new ArgumentException("packed rows run without a cache", nameof(input));
        var hidden = model.forward(embeds, input.Cache, Kernel, input.Packing);
        Tensor? logits = input.Logits switch
        {
            LogitsPositions.All => lm_head.forward(hidden),
            LogitsPositions.Last => lm_head.forward(hidden.narrow(1, hidden.shape[1] - 1, 1)),
            _ => null,
        };
        return new LlamaOutput(logits?.MoveToOuterDisposeScope(), hidden.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Runs <paramref name="prompt"/> after the valid positions of <paramref name="cache"/> (an empty cache, or a shared
    /// prefix), then decodes one token at a time until every row ends, <see cref="GenerationOptions.MaxNewTokens"/> or
    /// the cache is full. <paramref name="onToken"/> is called after each step (streaming).
    /// </summary>
    public GenerationResult Generate(LlamaInput prompt, KvCache cache, GenerationOptions options, Action<GenerationStep>? onToken = null)
    {
        if (prompt.Cache is not null && !ReferenceEquals(prompt.Cache, cache))
            throw new ArgumentException("prompt.Cache differs from the cache passed to Generate", nameof(prompt));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxNewTokens, 1);
        var eos = options.EosTokenIds.Count > 0 ? options.EosTokenIds : [Config.EosTokenId];
        long pad = Config.PadTokenId ?? eos[0];
        using var padValue = pad.ToScalar(); // held for every full_like below (see Native/ScalarOps)
        long batch = cache.BatchSize;

        using var scope = NewDisposeScope();
        using var sampler = new TokenSampler(options);
        var eosIds = tensor(eos.ToArray(), device: Device);
        var finished = zeros(batch, ScalarType.Bool, Device);
        var hostFinished = new bool[batch];
        var ids = new List<Tensor>();
        var hidden = new List<Tensor>();
        var logits = new List<Tensor>();
        var reason = StopReason.MaxNewTokens;

        var output = forward(prompt with { Cache = cache, Logits = LogitsPositions.Last });
        for (int step = 0; ; step++)
        {
            using (var stepScope = NewDisposeScope())
            {
                var stepLogits = output.Logits!.select(1, 0);
                var chosen = sampler.Next(stepLogits);
                chosen = where(finished, full_like(chosen, padValue), chosen);
                finished = finished.logical_or(isin(chosen, eosIds)).MoveToOuterDisposeScope();
                ids.Add(chosen.MoveToOuterDisposeScope());
                hidden.Add(output.LastHiddenState.select(1, output.LastHiddenState.shape[1] - 1).MoveToOuterDisposeScope());
                if (options.ReturnStepLogits) logits.Add(stepLogits.MoveToOuterDisposeScope());
            }
            output.Dispose();

            var hostIds = ids[^1].cpu().data<long>().ToArray();
            hostFinished = finished.cpu().data<bool>().ToArray();
            onToken?.Invoke(new GenerationStep(step, hostIds, (bool[])hostFinished.Clone()));

            if (hostFinished.All(f => f)) { reason = StopReason.EndOfSequence; break; }
            if (step + 1 >= options.MaxNewTokens) { reason = StopReason.MaxNewTokens; break; }
            if (options.CancellationToken.IsCancellationRequested) { reason = StopReason.Cancelled; break; }
            if (cache.Remaining < 1) { reason = StopReason.CacheFull; break; }
            output = forward(LlamaInput.FromIds(ids[^1].unsqueeze(1), cache, LogitsPositions.Last));
        }

        return new GenerationResult(
            stack(ids, 1).MoveToOuterDisposeScope(),
            stack(hidden, 1).MoveToOuterDisposeScope(),
            options.ReturnStepLogits ? stack(logits, 1).MoveToOuterDisposeScope() : null,
            reason);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            model.Dispose();
            lm_head.Dispose();
        }
        base.Dispose(disposing);
    }
}
