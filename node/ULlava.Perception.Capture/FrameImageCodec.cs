using OpenCvSharp;
using ULlava.Perception.Core.Frames;

namespace ULlava.Perception.Capture;

/// <summary>Frames to and from PNG/JPEG bytes (recordings, replay). PNG is lossless: a replay sees the recorded pixels exactly.</summary>
public static class FrameImageCodec
{
    public static byte[] Encode(Frame frame, string format, int jpegQuality = 90)
    {
        unsafe
        {
            fixed (byte* p = frame.Rgb)
            {
                using var rgb = Mat.FromPixelData(frame.Height, frame.Width, MatType.CV_8UC3, (IntPtr)p);
                using var bgr = rgb.CvtColor(ColorConversionCodes.RGB2BGR);
                return format switch
                {
                    "png" => bgr.ImEncode(".png", new ImageEncodingParam(ImwriteFlags.PngCompression, 1)),
                    "jpeg" or "jpg" => bgr.ImEncode(".jpg", new ImageEncodingParam(ImwriteFlags.JpegQuality, Math.Clamp(jpegQuality, 1, 100))),
                    _ => throw new ArgumentException($"image format '{format}': expected png or jpeg"),
                };
            }
        }
    }

    public static Frame Decode(byte[] data, FrameStamp stamp)
    {
        using var bgr = Cv2.ImDecode(data, ImreadModes.Color);
        if (bgr.Empty()) throw new InvalidDataException($"frame {stamp.StreamId} #{stamp.Sequence}: the recorded image cannot be decoded");
        return VideoCaptureSource.ToFrame(bgr, stamp);
    }
}
