using System.Buffers.Binary;
using System.IO.Compression;

namespace ULlava.Perception.Model.Tests;

/// <summary>
/// Decodes non-interlaced 8-bit RGB/RGBA PNGs to packed RGB bytes, so tests can start from scene.png
/// without an imaging library (the Model library takes pixels, never files).
/// </summary>
public static class PngReader
{
    private static readonly byte[] Signature = { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };

    public static (byte[] Rgb, int Width, int Height) ReadRgb(string path)
    {
        var file = File.ReadAllBytes(path);
        if (!file.AsSpan(0, 8).SequenceEqual(Signature)) throw new InvalidDataException($"{path}: not a PNG");
        int width = 0, height = 0, channels = 0;
        using var idat = new MemoryStream();
        for (int pos = 8; pos + 8 <= file.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(pos));
            string type = System.Text.Encoding.ASCII.GetString(file, pos + 4, 4);
            var data = file.AsSpan(pos + 8, length);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                byte bitDepth = data[8], colorType = data[9], interlace = data[12];
                if (bitDepth != 8 || interlace != 0 || (colorType != 2 && colorType != 6))
                    throw new NotSupportedException($"{path}: only 8-bit non-interlaced RGB/RGBA (depth {bitDepth}, colour type {colorType}, interlace {interlace})");
                channels = colorType == 2 ? 3 : 4;
            }
            else if (type == "IDAT") idat.Write(data);
            else if (type == "IEND") break;
            pos += 12 + length; // length, type, data, CRC
        }
        if (channels == 0) throw new InvalidDataException($"{path}: no IHDR");

        int stride = width * channels;
        var raw = new byte[(stride + 1) * height];
        idat.Position = 0;
        using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.ReadExactly(raw);

        var pixels = new byte[stride * height];
        for (int y = 0; y < height; y++)
        {
            byte filter = raw[y * (stride + 1)];
            var src = raw.AsSpan(y * (stride + 1) + 1, stride);
            var cur = pixels.AsSpan(y * stride, stride);
            var prev = y > 0 ? pixels.AsSpan((y - 1) * stride, stride) : new byte[stride];
            for (int i = 0; i < stride; i++)
            {
                int a = i >= channels ? cur[i - channels] : 0, b = prev[i], c = i >= channels ? prev[i - channels] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"{path}: bad filter {filter} on row {y}"),
                };
                cur[i] = (byte)(src[i] + predictor);
            }
        }
        if (channels == 3) return (pixels, width, height);
        // PIL's convert("RGB") drops alpha.
        var rgb = new byte[width * height * 3];
        for (int p = 0; p < width * height; p++) pixels.AsSpan(p * 4, 3).CopyTo(rgb.AsSpan(p * 3));
        return (rgb, width, height);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
