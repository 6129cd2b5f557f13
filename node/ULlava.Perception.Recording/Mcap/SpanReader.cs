using System.Buffers.Binary;
using System.Text;

namespace ULlava.Perception.Recording.Mcap;

/// <summary>Little-endian field reader over one record's content; any read past the end is a format error.</summary>
internal ref struct SpanReader(ReadOnlySpan<byte> span)
{
    private readonly ReadOnlySpan<byte> _span = span;

    public int Position { get; private set; }

    public readonly int Remaining => _span.Length - Position;

    private ReadOnlySpan<byte> Take(int count, string what)
    {
        if (count < 0 || count > Remaining)
        {
            throw new McapFormatException($"{what}: needs {count} bytes at {Position}, record has {Remaining} left");
        }
        var slice = _span.Slice(Position, count);
        Position += count;
        return slice;
    }

    public byte U8(string what) => Take(1, what)[0];
    public ushort U16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));
    public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));
    public ulong U64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));

    public string String(string what) => Encoding.UTF8.GetString(Take(Length32(what), what));

    public ReadOnlySpan<byte> Bytes32(string what) => Take(Length32(what), what);

    public ReadOnlySpan<byte> Bytes64(string what)
    {
        var length = U64(what);
        if (length > (ulong)Remaining)
        {
            throw new McapFormatException($"{what}: length {length} runs past the record ({Remaining} left)");
        }
        return Take((int)length, what);
    }

    public ReadOnlySpan<byte> Rest() => Take(Remaining, "rest");

    public Dictionary<string, string> StringMap(string what)
    {
        var inner = new SpanReader(Bytes32(what));
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        while (inner.Remaining > 0)
        {
            var key = inner.String(what);
            map[key] = inner.String(what);
        }
        return map;
    }

    public Dictionary<ushort, ulong> U16U64Map(string what)
    {
        var inner = new SpanReader(Bytes32(what));
        var map = new Dictionary<ushort, ulong>();
        while (inner.Remaining > 0)
        {
            var key = inner.U16(what);
            map[key] = inner.U64(what);
        }
        return map;
    }

    private int Length32(string what)
    {
        var length = U32(what);
        if (length > (uint)Remaining)
        {
            throw new McapFormatException($"{what}: length {length} runs past the record ({Remaining} left)");
        }
        return (int)length;
    }
}
