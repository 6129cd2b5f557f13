using System.Buffers;
using K4os.Compression.LZ4;
using K4os.Compression.LZ4.Streams;
using ZstdSharp;

namespace ULlava.Perception.Recording.Mcap;

/// <summary>Chunk codecs by their MCAP names: "" (none), "zstd", and "lz4" as the LZ4 frame format (what other readers expect).</summary>
public static class McapCompression
{
    public static bool IsSupported(string compression) =>
        compression is McapFormat.CompressionNone or McapFormat.CompressionZstd or McapFormat.CompressionLz4;

    public static byte[] Compress(string compression, ReadOnlySpan<byte> data, int zstdLevel = 3) => compression switch
    {
        McapFormat.CompressionNone => data.ToArray(),
        McapFormat.CompressionZstd => CompressZstd(data, zstdLevel),
        McapFormat.CompressionLz4 => LZ4Frame.Encode(data, new ArrayBufferWriter<byte>(data.Length / 2 + 64), LZ4Level.L00_FAST).WrittenSpan.ToArray(),
        _ => throw new McapFormatException($"unsupported chunk compression '{compression}'"),
    };

    /// <summary>Decompresses exactly <paramref name="uncompressedSize"/> bytes; any other size is a format error.</summary>
    public static byte[] Decompress(string compression, ReadOnlySpan<byte> data, ulong uncompressedSize)
    {
        if (uncompressedSize > int.MaxValue)
        {
            throw new McapFormatException($"chunk of {uncompressedSize} bytes is too large");
        }
        byte[] result;
        switch (compression)
        {
            case McapFormat.CompressionNone:
                result = data.ToArray();
                break;
            case McapFormat.CompressionZstd:
                result = new byte[uncompressedSize];
                int written;
                try
                {
                    using var decompressor = new Decompressor();
                    written = decompressor.Unwrap(data, result);
                }
                catch (ZstdException e)
                {
                    throw new McapFormatException($"zstd: {e.Message}");
                }
                if (written != result.Length)
                {
                    throw new McapFormatException($"zstd chunk decompressed to {written} bytes, expected {uncompressedSize}");
                }
                break;
            case McapFormat.CompressionLz4:
                try
                {
                    result = LZ4Frame.Decode(data, new ArrayBufferWriter<byte>((int)uncompressedSize + 1)).WrittenSpan.ToArray();
                }
                catch (Exception e) when (e is InvalidDataException or ArgumentException or InvalidOperationException)
                {
                    throw new McapFormatException($"lz4: {e.Message}");
                }
                break;
            default:
                throw new McapFormatException($"unsupported chunk compression '{compression}'");
        }
        if ((ulong)result.Length != uncompressedSize)
        {
            throw new McapFormatException($"chunk decompressed to {result.Length} bytes, expected {uncompressedSize}");
        }
        return result;
    }

    private static byte[] CompressZstd(ReadOnlySpan<byte> data, int level)
    {
        using var compressor = new Compressor(level);
        return compressor.Wrap(data).ToArray();
    }
}
