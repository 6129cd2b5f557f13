namespace ULlava.Perception.Core.Frames;

/// <summary>An RGB image (8 bits per channel, rows packed, HWC) and its stamp.</summary>
public sealed class Frame
{
    public Frame(FrameStamp stamp, int width, int height, byte[] rgb)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"frame size {width}x{height}: expected positive");
        if (rgb.Length != checked(width * height * 3))
            throw new ArgumentException($"frame data has {rgb.Length} bytes, expected {width}x{height}x3 = {width * height * 3}", nameof(rgb));
        Stamp = stamp;
        Width = width;
        Height = height;
        Rgb = rgb;
    }

    public FrameStamp Stamp { get; }
    public int Width { get; }
    public int Height { get; }

    /// <summary>Height × width × 3 bytes, R G B.</summary>
    public byte[] Rgb { get; }
}
