using static TorchSharp.torch;

namespace ULlava.Perception.Model.Llama;

/// <summary>Result of a forward pass; the caller disposes it (or moves its tensors out of a dispose scope).</summary>
public sealed class LlamaOutput : IDisposable
{
    public LlamaOutput(Tensor? logits, Tensor lastHiddenState)
    {
        Logits = logits;
        LastHiddenState = lastHiddenState;
    }

    /// <summary>[B,T,V] for <see cref="LogitsPositions.All"/>, [B,1,V] for <see cref="LogitsPositions.Last"/>, else null.</summary>
    public Tensor? Logits { get; }

    /// <summary>Final-norm hidden states [B,T,H] of every input position (what lm_head sees; u-LLaVA's [SEG]/[LOC] heads read them).</summary>
    public Tensor LastHiddenState { get; }

    public void Dispose()
    {
        Logits?.Dispose();
        LastHiddenState.Dispose();
    }
}
