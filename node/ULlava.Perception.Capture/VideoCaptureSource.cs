using OpenCvSharp;
using ULlava.Perception.Core.Frames;

namespace ULlava.Perception.Capture;

/// <summary>
/// A video file or a V4L2 camera (/dev/videoN or a device index) read through OpenCV's VideoCapture on the
/// caller's task. Files carry their own timestamps (CAP_PROP_POS_MSEC); a file ends, or starts again with
/// <see cref="Loop"/>. Each frame is converted to RGB and stamped once, here.
/// </summary>
public sealed class VideoCaptureSource : IFrameSource
{
    private volatile SourceState state = SourceState.Connecting;
    private ulong sequence;

    public VideoCaptureSource(string streamId, string uri, bool loop = false)
    {
        StreamId = streamId;
        Uri = uri;
        Loop = loop;
        IsLive = IsCameraUri(uri);
    }

    public string StreamId { get; }
    public string Uri { get; }
    public bool Loop { get; }
    public bool IsLive { get; }
    public SourceState State => state;
    public string? LastError { get; private set; }

    /// <summary>Camera devices: /dev/videoN or a bare device index.</summary>
    public static bool IsCameraUri(string uri) => uri.StartsWith("/dev/video", StringComparison.Ordinal) || int.TryParse(uri, out _);

    public async Task RunAsync(Func<Frame, CancellationToken, ValueTask> sink, CancellationToken cancellation)
    {
        do
        {
            using var capture = Open();
            state = SourceState.Streaming;
            using var bgr = new Mat();
            while (!cancellation.IsCancellationRequested)
            {
                if (!capture.Read(bgr) || bgr.Empty()) break;
                long captureNs = UnixClock.NowNs();
                long? streamNs = IsLive ? null : (long)(capture.Get(VideoCaptureProperties.PosMsec) * 1e6);
                var frame = ToFrame(bgr, new FrameStamp(StreamId, sequence++, captureNs, streamNs));
                await sink(frame, cancellation).ConfigureAwait(false);
            }
        }
        while (Loop && !cancellation.IsCancellationRequested);
        state = SourceState.Ended;
    }

    private VideoCapture Open()
    {
        if (!IsLive && !File.Exists(Uri))
        {
            state = SourceState.Failed;
            LastError = $"video file not found: {Uri}";
            throw new FileNotFoundException(LastError, Uri);
        }
        var capture = int.TryParse(Uri, out int index) ? new VideoCapture(index, VideoCaptureAPIs.V4L2) : new VideoCapture(Uri);
        if (!capture.IsOpened())
        {
            capture.Dispose();
            state = SourceState.Failed;
            LastError = IsLive ? $"camera {Uri} could not be opened (does the device exist and is it free?)" : $"{Uri}: not a video OpenCV can decode";
            throw new IOException(LastError);
        }
        return capture;
    }

    /// <summary>BGR Mat → packed RGB frame.</summary>
    public static Frame ToFrame(Mat bgr, FrameStamp stamp)
    {
        var rgbBytes = GC.AllocateUninitializedArray<byte>(bgr.Rows * bgr.Cols * 3); // every byte is written below
        unsafe
        {
            fixed (byte* p = rgbBytes)
            {
                using var rgb = Mat.FromPixelData(bgr.Rows, bgr.Cols, MatType.CV_8UC3, (IntPtr)p);
                Cv2.CvtColor(bgr, rgb, ColorConversionCodes.BGR2RGB);
            }
        }
        return new Frame(stamp, bgr.Cols, bgr.Rows, rgbBytes);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
