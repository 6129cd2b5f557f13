using static TorchSharp.torch;

namespace ULlava.Perception.Model.Llama;

/// <summary>
/// Generated tokens with, for each, the final-norm hidden state that predicted it (the input of the [SEG]/[LOC] heads).
/// The cache then holds the prompt and every generated token except the last, which was never run through the model.
/// </summary>
public sealed class GenerationResult : IDisposable
{
    public GenerationResult(Tensor tokenIds, Tensor hiddenStates, Tensor? stepLogits, StopReason stopReason)
    {
        TokenIds = tokenIds;
        HiddenStates = hiddenStates;
        StepLogits = stepLogits;
        StopReason = stopReason;
    }

    /// <summary>[B,N] int64; after a row's end-of-sequence token the rest of the row is the pad id.</summary>
    public Tensor TokenIds { get; }

    /// <summary>[B,N,H]: row b, step i is the hidden state at the position whose logits chose token i.</summary>
    public Tensor HiddenStates { get; }

    /// <summary>[B,N,V] raw logits that chose each token, when asked for.</summary>
    public Tensor? StepLogits { get; }

    public StopReason StopReason { get; }

    public int Count => (int)TokenIds.shape[1];

    /// <summary>The ids of one row up to and including its end-of-sequence token.</summary>
    public long[] Tokens(int row, IReadOnlyCollection<long> eosTokenIds)
    {
        var ids = TokenIds[row].data<long>().ToArray();
        int end = Array.FindIndex(ids, eosTokenIds.Contains);
        return end < 0 ? ids : ids[..(end + 1)];
    }

    public void Dispose()
    {
        TokenIds.Dispose();
        HiddenStates.Dispose();
        StepLogits?.Dispose();
    }
}
