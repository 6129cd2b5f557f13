namespace ULlava.Perception.Recording.Mcap;

/// <summary>Constants of the file layout shared by the writer and the reader.</summary>
public static class McapFormat
{
    /// <summary>0x89 "MCAP" then the major version '0' and "\r\n", at both ends of a file.</summary>
    public static ReadOnlySpan<byte> Magic => [0x89, (byte)'M', (byte)'C', (byte)'A', (byte)'P', (byte)'0', (byte)'\r', (byte)'\n'];

    /// <summary>Opcode (1) + content length (8).</summary>
    public const int RecordPrefixLength = 9;

    /// <summary>Footer content: summary start (8), summary offset start (8), summary CRC (4).</summary>
    public const int FooterContentLength = 20;

    /// <summary>Footer record plus the trailing magic: what a complete file ends with.</summary>
    public const int TailLength = RecordPrefixLength + FooterContentLength + 8;

    public const string CompressionNone = "";
    public const string CompressionZstd = "zstd";
    public const string CompressionLz4 = "lz4";
}
