using TorchSharp;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Llama;

/// <summary>
/// Per-layer key/value buffers [batch, kv_heads, max_length, head_dim], preallocated once and owned by the caller.
/// Positions [0, <see cref="Length"/>) are valid; a forward pass appends after them. Keys are stored already rotated,
/// so a prefix (e.g. the system prompt and image of one frame) can be copied into other caches and reused.
/// </summary>
public sealed class KvCache : IDisposable
{
    // Every layer's keys and values in one tensor [layers, 2, batch, kv_heads, max_length, head_dim]: copying a prefix is
    // one kernel instead of two a layer (on a GPU each launch counts), and the buffers are left unfilled, since positions
    // past Length are never read.
    private readonly Tensor _storage;
    private readonly Tensor[] _keys;
    private readonly Tensor[] _values;
    private bool _disposed;

    public KvCache(int layers, long batchSize, int kvHeads, int headDim, int maxLength, ScalarType dtype, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        Layers = layers;
        BatchSize = batchSize;
        KvHeads = kvHeads;
        HeadDim = headDim;
        MaxLength = maxLength;
        DType = dtype;
        Device = device ?? CPU;
        // Detached: the cache outlives whatever dispose scope the caller happens to be in.
        _storage = empty(new[] { layers, 2, batchSize, kvHeads, maxLength, headDim }, dtype, Device).DetachFromDisposeScope();
        _keys = new Tensor[layers];
        _values = new Tensor[layers];
        for (int i = 0; i < layers; i++)
        {
            _keys[i] = _storage[i, 0].DetachFromDisposeScope();
            _values[i] = _storage[i, 1].DetachFromDisposeScope();
        }
    }

    public int Layers { get; }
    public long BatchSize { get; }
    public int KvHeads { get; }
    public int HeadDim { get; }
    public int MaxLength { get; }
    public ScalarType DType { get; }
    public Device Device { get; }

    /// <summary>Number of valid positions (tokens already run through the model).</summary>
    public int Length { get; private set; }

    public int Remaining => MaxLength - Length;

    /// <summary>Forgets every position from <paramref name="length"/> on (e.g. back to a shared prompt prefix).</summary>
    public void Truncate(int length)
    {
        ThrowIfDisposed();
        if (length < 0 || length > Length)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"cache holds {Length} positions");
        Length = length;
    }

    /// <summary>An independent copy of the valid positions, with room for <paramref name="maxLength"/> (default: the same).</summary>
    public KvCache Clone(int? maxLength = null)
    {
        ThrowIfDisposed();
        var copy = new KvCache(Layers, BatchSize, KvHeads, HeadDim, maxLength ?? MaxLength, DType, Device);
        copy.CopyPrefixFrom(this, Length);
        return copy;
    }

    /// <summary>
    /// Makes this cache hold the first <paramref name="length"/> positions of <paramref name="source"/> and nothing else.
    /// A source of batch 1 fills every batch row (one shared prompt prefix, several instructions).
    /// </summary>
    public void CopyPrefixFrom(KvCache source, int length)
    {
        ThrowIfDisposed();
        source.ThrowIfDisposed();
        if (source.Layers != Layers || source.KvHeads != KvHeads || source.HeadDim != HeadDim)
            throw new ArgumentException("source cache has another layer/head layout", nameof(source));
        if (source.BatchSize != BatchSize && source.BatchSize != 1)
            throw new ArgumentException($"source batch {source.BatchSize} cannot fill batch {BatchSize}", nameof(source));
        if (length < 0 || length > source.Length)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"source holds {source.Length} positions");
        if (length > MaxLength)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"this cache holds at most {MaxLength} positions");
        using (NewDisposeScope())
        using (no_grad())
        {
            // One strided copy for every layer; a batch-1 source broadcasts over the batch rows.
            _storage.narrow(4, 0, length).copy_(source._storage.narrow(4, 0, length).to(DType, Device));
        }
        Length = length;
    }

    /// <summary>
    /// Writes <paramref name="key"/>/<paramref name="value"/> [B,kv_heads,T,D] after the valid positions of one layer and
    /// returns views of all keys/values so far [B,kv_heads,Length+T,D]. <see cref="Advance"/> commits the T positions once
    /// every layer has written, so a failed forward pass leaves the cache as it was.
    /// </summary>
    internal (Tensor Keys, Tensor Values) Append(int layer, Tensor key, Tensor value)
    {
        ThrowIfDisposed();
        long t = key.shape[2];
        if (key.shape[0] != BatchSize)
            throw new ArgumentException($"batch {key.shape[0]} does not match the cache's {BatchSize}");
        if (Length + t > MaxLength)
            throw new InvalidOperationException($"KV cache full: {Length} + {t} positions exceed its {MaxLength}");
        using (no_grad())
        {
            _keys[layer].narrow(2, Length, t).copy_(key);
            _values[layer].narrow(2, Length, t).copy_(value);
        }
        return (_keys[layer].narrow(2, 0, Length + t), _values[layer].narrow(2, 0, Length + t));
    }

    internal void Advance(int count)
    {
        if (Length + count > MaxLength) throw new InvalidOperationException("KV cache advanced past its capacity");
        Length += count;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _keys) t.Dispose();
        foreach (var t in _values) t.Dispose();
        _storage.Dispose();
    }
}
