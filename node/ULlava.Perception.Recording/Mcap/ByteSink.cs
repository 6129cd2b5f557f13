using System.Buffers.Binary;
using System.Text;

namespace ULlava.Perception.Recording.Mcap;

/// <summary>A growable little-endian byte buffer that can patch a record's length once its content is written.</summary>
internal sealed class ByteSink(int capacity = 4096)
{
    private byte[] _buffer = new byte[Math.Max(capacity, 16)];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, Length);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, Length);

    public void Clear() => Length = 0;

    private Span<byte> Take(int count)
    {
        if (Length + count > _buffer.Length)
        {
            var grown = new byte[Math.Max(_buffer.Length * 2, Length + count)];
            _buffer.AsSpan(0, Length).CopyTo(grown);
            _buffer = grown;
        }
        var span = _buffer.AsSpan(Length, count);
        Length += count;
        return span;
    }

    public void U8(byte value) => Take(1)[0] = value;
    public void U16(ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Take(2), value);
    public void U32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Take(4), value);
    public void U64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Take(8), value);
    public void Raw(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Take(bytes.Length));

    public void String(string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        U32((uint)count);
        Encoding.UTF8.GetBytes(value, Take(count));
    }

    public void Bytes32(ReadOnlySpan<byte> bytes)
    {
        U32((uint)bytes.Length);
        Raw(bytes);
    }

    public void Bytes64(ReadOnlySpan<byte> bytes)
    {
        U64((ulong)bytes.Length);
        Raw(bytes);
    }

    public void StringMap(IReadOnlyDictionary<string, string> map)
    {
        var lengthAt = BeginLength32();
        foreach (var (key, value) in map.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            String(key);
            String(value);
        }
        EndLength32(lengthAt);
    }

    public void U16U64Map(IReadOnlyDictionary<ushort, ulong> map)
    {
        U32((uint)(map.Count * 10));
        foreach (var (key, value) in map.OrderBy(p => p.Key))
        {
            U16(key);
            U64(value);
        }
    }

    public int BeginLength32()
    {
        var at = Length;
        Take(4);
        return at;
    }

    public void EndLength32(int at) =>
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(at, 4), (uint)(Length - at - 4));

    /// <summary>Writes opcode and a length placeholder; returns where the content starts.</summary>
    public int BeginRecord(McapOpcode opcode)
    {
        U8((byte)opcode);
        Take(8);
        return Length;
    }

    public void EndRecord(int contentStart) =>
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(contentStart - 8, 8), (ulong)(Length - contentStart));
}
