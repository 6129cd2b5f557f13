using OpenCvSharp;
using ULlava.Perception.Core.Frames;

namespace ULlava.Perception.Capture;

/// <summary>
/// A folder of images read in file-name order (ordinal), one frame each; like a file it ends (or starts again
/// with <see cref="Loop"/>) and nothing is dropped. Files OpenCV cannot decode are skipped and named in <see cref="LastError"/>.
/// </summary>
public sealed class ImageFolderSource : IFrameSource
{
    public static readonly string[] Extensions = { ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm" };

    private volatile SourceState state = SourceState.Connecting;
    private ulong sequence;

    public ImageFolderSource(string streamId, string folder, bool loop = false)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"image folder not found: {folder}");
        StreamId = streamId;
        Uri = folder;
        Loop = loop;
        Files = Directory.GetFiles(folder).Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal).ToList();
        if (Files.Count == 0) throw new FileNotFoundException($"{folder}: no images ({string.Join(", ", Extensions)})");
    }

    public string StreamId { get; }
    public string Uri { get; }
    public bool Loop { get; }
    public bool IsLive => false;
    public IReadOnlyList<string> Files { get; }
    public SourceState State => state;
    public string? LastError { get; private set; }

    public async Task RunAsync(Func<Frame, CancellationToken, ValueTask> sink, CancellationToken cancellation)
    {
        state = SourceState.Streaming;
        do
        {
            foreach (var file in Files)
            {
                if (cancellation.IsCancellationRequested) break;
                using var bgr = Cv2.ImRead(file, ImreadModes.Color);
                if (bgr.Empty())
                {
                    LastError = $"{file}: not an image OpenCV can decode (skipped)";
                    continue;
                }
                await sink(VideoCaptureSource.ToFrame(bgr, new FrameStamp(StreamId, sequence++, UnixClock.NowNs())), cancellation).ConfigureAwait(false);
            }
        }
        while (Loop && !cancellation.IsCancellationRequested);
        state = SourceState.Ended;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
