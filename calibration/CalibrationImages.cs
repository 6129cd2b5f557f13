using OpenCvSharp;

namespace ULlava.Perception.Calibration;

/// <summary>Calibration input: every image of a folder, or every Nth frame of a video. The caller disposes each Mat.</summary>
public static class CalibrationImages
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".pgm", ".ppm"];

    /// <summary>The folder's images in name order (so the report lists them as the file manager does).</summary>
    public static IEnumerable<(string Name, Mat Image)> FromFolder(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"image folder not found: {folder}");
        var files = Directory.EnumerateFiles(folder)
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0) throw new FileNotFoundException($"{folder}: no images ({string.Join(", ", Extensions)})");
        foreach (var file in files)
        {
            var image = Cv2.ImRead(file, ImreadModes.Color);
            if (image.Empty())
            {
                image.Dispose();
                throw new IOException($"{file}: not an image OpenCV can decode");
            }
            yield return (Path.GetFileName(file), image);
        }
    }

    /// <summary>Frames 0, N, 2N, ... of a video file, named frame_000000 and so on by frame index.</summary>
    public static IEnumerable<(string Name, Mat Image)> FromVideo(string path, int every)
    {
        if (every < 1) throw new ArgumentOutOfRangeException(nameof(every), "sample every N ≥ 1 frames");
        if (!File.Exists(path)) throw new FileNotFoundException($"video file not found: {path}", path);
        using var capture = new VideoCapture(path);
        if (!capture.IsOpened()) throw new IOException($"{path}: not a video OpenCV can decode");
        for (int index = 0; ; index++)
        {
            var frame = new Mat();
            if (!capture.Read(frame) || frame.Empty())
            {
                frame.Dispose();
                yield break;
            }
            if (index % every != 0)
            {
                frame.Dispose();
                continue;
            }
            yield return ($"frame_{index:D6}", frame);
        }
    }
}
