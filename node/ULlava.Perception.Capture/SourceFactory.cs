using ULlava.Perception.Core.Frames;

namespace ULlava.Perception.Capture;

/// <summary>
/// Maps what the user typed to a source: files, file:// uris, /dev/videoN and device indices go to OpenCV
/// (<see cref="VideoCaptureSource"/>), a folder to <see cref="ImageFolderSource"/>; network schemes go to an ffmpeg child (<see cref="FfmpegStreamSource"/>).
/// Errors say what was wrong (missing file, unknown scheme, a scheme this ffmpeg cannot read) at start-up.
/// </summary>
public static class SourceFactory
{
    /// <summary>The network schemes handed to ffmpeg (each only where the installed ffmpeg has the protocol).</summary>
    public static IReadOnlyList<string> NetworkSchemes { get; } = ["rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "srt"];

    public static IFrameSource Create(string streamId, string uri, bool loop = false, FfmpegStreamOptions? streamOptions = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uri);
        if (FfmpegStreamSource.SchemeOf(uri) is { } scheme)
        {
            if (scheme == "file") return File(streamId, new Uri(uri).LocalPath, loop);
            if (!NetworkSchemes.Contains(scheme))
                throw new ArgumentException($"{uri}: unsupported scheme '{scheme}://'; use a file, /dev/videoN, a device index or one of {string.Join(", ", NetworkSchemes.Select(s => s + "://"))}", nameof(uri));
            var options = streamOptions ?? new FfmpegStreamOptions();
            var tool = FfmpegTool.Get(options.FfmpegPath);
            if (!tool.CanRead(scheme)) throw new NotSupportedException($"{uri}: the installed ffmpeg ({tool.Path}) cannot read {scheme}:// streams");
            return new FfmpegStreamSource(streamId, uri, options);
        }
        if (VideoCaptureSource.IsCameraUri(uri))
        {
            if (uri.StartsWith("/dev/", StringComparison.Ordinal) && !System.IO.File.Exists(uri))
                throw new FileNotFoundException($"camera device not found: {uri}", uri);
            return new VideoCaptureSource(streamId, uri, loop);
        }
        if (Directory.Exists(uri)) return new ImageFolderSource(streamId, uri, loop);
        return File(streamId, uri, loop);
    }

    private static VideoCaptureSource File(string streamId, string path, bool loop)
    {
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"video file not found: {path}", path);
        return new VideoCaptureSource(streamId, path, loop);
    }
}
