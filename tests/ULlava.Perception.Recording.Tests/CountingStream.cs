namespace ULlava.Perception.Recording.Tests;

/// <summary>A read-only memory stream that counts the bytes read from it: proves a reader seeks instead of reading all.</summary>
public sealed class CountingStream(byte[] bytes) : MemoryStream(bytes, writable: false)
{
    public long BytesRead { get; private set; }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = base.Read(buffer, offset, count);
        BytesRead += read;
        return read;
    }

    public override int Read(Span<byte> buffer)
    {
        var read = base.Read(buffer);
        BytesRead += read;
        return read;
    }
}
