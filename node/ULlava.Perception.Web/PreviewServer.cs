using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ULlava.Perception.Node.Pipeline;

namespace ULlava.Perception.Web;

/// <summary>
/// An MJPEG preview of the annotated frames (<c>--preview URL</c>, default <see cref="DefaultUrl"/>): a small page at
/// the URL's path showing <c>stream.mjpg</c> (multipart/x-mixed-replace) beside it.
/// <para>
/// The model thread only stores a reference to each processed frame. A render thread of its own annotates and encodes
/// the newest one, and only while a client is connected; every client is sent the newest JPEG when it is ready for
/// one, so a slow client skips frames and never holds up the renderer, the other clients or the node.
/// </para>
/// </summary>
public sealed class PreviewServer : IHostedService, IAsyncDisposable
{
    public const string Setting = "--preview";
    public const string DefaultUrl = "http://127.0.0.1:8080/";
    private const string Boundary = "ullava-frame";

    private readonly PerceptionNode node;
    private readonly string url;
    private readonly ListenUrl listen;
    private readonly PreviewOptions options;
    private readonly LatestJpeg latest = new();
    private readonly RateMeter fps = new();
    // Capacity 1, extra writes dropped: "there is something new" without a queue, and TryWrite never blocks.
    private readonly Channel<bool> wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource stopping = new();
    private readonly ILogger logger;
    private ProcessedFrame? pending;
    private WebApplication? app;
    private Thread? renderer;
    private int clients;
    private long framesEncoded;
    private long partsWritten;
    private int disposed;

    /// <param name="logger">Gets one line with the bound URL, and one per frame the preview cannot draw.</param>
    /// <exception cref="ArgumentException">The URL is not http://IP-or-localhost:PORT/PATH (the message names <see cref="Setting"/>).</exception>
    public PreviewServer(PerceptionNode node, string url = DefaultUrl, PreviewOptions? options = null, ILogger? logger = null)
    {
        this.node = node;
        this.logger = logger ?? NullLogger.Instance;
        this.url = url;
        this.options = options ?? new PreviewOptions();
        this.options.Validate();
        listen = ListenUrl.Parse(url, Setting, "/");
        if (!listen.Path.EndsWith('/')) listen = listen with { Path = listen.Path + "/" };
    }

    /// <summary>The page's URL while started (port 0 resolved), else null; the stream is <see cref="StreamUrl"/>.</summary>
    public string? Url { get; private set; }

    public string? StreamUrl => Url is null ? null : Url + "stream.mjpg";

    /// <summary>Clients connected to the stream now.</summary>
    public int Clients => Volatile.Read(ref clients);

    /// <summary>Frames annotated and encoded so far (none while nobody watches).</summary>
    public long FramesEncoded => Interlocked.Read(ref framesEncoded);

    /// <summary>Why the last frame the preview skipped could not be drawn, or null.</summary>
    public string? LastError { get; private set; }

    /// <summary>Parts flushed to clients, all clients together (tests tell a stuck client by it).</summary>
    internal long PartsWritten => Interlocked.Read(ref partsWritten);

    public async Task<string> StartAsync(CancellationToken cancellation)
    {
        if (app is not null) throw new InvalidOperationException($"{Setting}: already started on {Url}");
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) == 1 || stopping.IsCancellationRequested, this);
        (app, Url) = await LoopbackWebHost.StartAsync(listen, Setting, url, web =>
        {
            web.MapGet(listen.Path, Page);
            web.MapGet(listen.Path + "stream.mjpg", StreamAsync);
        }, cancellation).ConfigureAwait(false);
        node.FrameProcessed += OnFrameProcessed;
        renderer = new Thread(RenderLoop) { Name = "preview", IsBackground = true };
        renderer.Start();
        logger.LogInformation("preview on {Url}", Url);
        return Url;
    }

    Task IHostedService.StartAsync(CancellationToken cancellationToken) => StartAsync(cancellationToken);

    /// <summary>Model thread: keep the reference, nudge the renderer. Nothing here waits or allocates much.</summary>
    private void OnFrameProcessed(ProcessedFrame frame)
    {
        fps.Tick();
        Volatile.Write(ref pending, frame);
        if (Volatile.Read(ref clients) > 0) wake.Writer.TryWrite(true);
    }

    private void RenderLoop()
    {
        ProcessedFrame? rendered = null;
        long lastEncode = 0;
        try
        {
            while (true)
            {
                while (!wake.Reader.TryRead(out _)) wake.Reader.WaitToReadAsync(stopping.Token).AsTask().GetAwaiter().GetResult();
                if (Volatile.Read(ref clients) == 0) continue;
                // At most MaxFps encodes: wait out the interval, then take whatever is newest by then.
                var wait = TimeSpan.FromSeconds(1 / options.MaxFps) - Stopwatch.GetElapsedTime(lastEncode);
                if (lastEncode != 0 && wait > TimeSpan.Zero) stopping.Token.WaitHandle.WaitOne(wait);
                stopping.Token.ThrowIfCancellationRequested();
                var frame = Volatile.Read(ref pending);
                if (frame is null || ReferenceEquals(frame, rendered)) continue;
                lastEncode = Stopwatch.GetTimestamp();
                rendered = frame;
                try
                {
                    latest.Publish(new PreviewImage(FrameAnnotator.RenderJpeg(frame, fps.PerSecond, node.Paused, options.JpegQuality), frame.Frame.Stamp));
                    Interlocked.Increment(ref framesEncoded);
                }
                catch (Exception e) when (e is OpenCvSharp.OpenCVException or ArgumentException)
                {
                    // One frame the preview cannot draw (a malformed mask) is skipped; the preview and the node go on.
                    LastError = $"frame {frame.Frame.Stamp.StreamId} #{frame.Frame.Stamp.Sequence}: {e.Message}";
                    logger.LogWarning("preview skipped {Error}", LastError);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private IResult Page()
    {
        string title = WebUtility.HtmlEncode($"ULlava.Perception preview: {node.ModelDescription}");
        // Relative stream URL: the page works under any path prefix the URL gives.
        string html = $$"""
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>{{title}}</title>
            <style>body{margin:0;background:#111;color:#ddd;font:14px sans-serif} p{margin:6px 8px} img{display:block;max-width:100%}</style>
            </head><body>
            <img id="stream" src="stream.mjpg" alt="annotated video">
            <p>{{title}}</p>
            </body></html>
            """;
        return Results.Content(html, "text/html; charset=utf-8");
    }

    private async Task StreamAsync(HttpContext context)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping.Token);
        var token = linked.Token;
        var response = context.Response;
        response.ContentType = $"multipart/x-mixed-replace; boundary={Boundary}";
        response.Headers.CacheControl = "no-store";
        Interlocked.Increment(ref clients);
        wake.Writer.TryWrite(true); // render the newest frame now, even if the node is paused or has ended
        try
        {
            await response.StartAsync(token).ConfigureAwait(false);
            await response.Body.FlushAsync(token).ConfigureAwait(false); // headers now, not with the first frame (the node may be idle)
            long seen = 0;
            while (!token.IsCancellationRequested)
            {
                var (image, version) = await latest.NewerThanAsync(seen, token).ConfigureAwait(false);
                seen = version;
                byte[] jpeg = image.Jpeg;
                byte[] header = Encoding.ASCII.GetBytes(PartHeader(image));
                await response.Body.WriteAsync(header, token).ConfigureAwait(false);
                await response.Body.WriteAsync(jpeg, token).ConfigureAwait(false);
                await response.Body.WriteAsync("\r\n"u8.ToArray(), token).ConfigureAwait(false);
                await response.Body.FlushAsync(token).ConfigureAwait(false);
                Interlocked.Increment(ref partsWritten);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client went away, or the server is stopping.
        }
        finally
        {
            Interlocked.Decrement(ref clients);
        }
    }

    /// <summary>
    /// A part's delimiter and headers. Besides the JPEG's type and length, each part names the frame it shows (stream,
    /// sequence, capture time), so a client can join a picture with the results published for that frame.
    /// </summary>
    private static string PartHeader(PreviewImage image) => string.Create(CultureInfo.InvariantCulture,
        $"--{Boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: {image.Jpeg.Length}\r\n" +
        $"X-Stream-Id: {image.Stamp.StreamId}\r\nX-Sequence: {image.Stamp.Sequence}\r\nX-Capture-Time-Unix-Ns: {image.Stamp.CaptureTimeUnixNs}\r\n\r\n");

    public async Task StopAsync(CancellationToken cancellation)
    {
        var running = Interlocked.Exchange(ref app, null);
        if (running is null) return;
        Url = null;
        node.FrameProcessed -= OnFrameProcessed;
        await stopping.CancelAsync().ConfigureAwait(false); // ends the streams, so Kestrel's stop need not wait for them
        renderer?.Join();
        await running.StopAsync(cancellation).ConfigureAwait(false);
        await running.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Stops and releases; safe to call more than once (a host disposes a service registered twice twice).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1) return;
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        await stopping.CancelAsync().ConfigureAwait(false);
        stopping.Dispose();
    }
}

/// <summary>How the preview encodes.</summary>
public sealed record PreviewOptions
{
    /// <summary>JPEG quality, 1 to 100.</summary>
    public int JpegQuality { get; init; } = 80;

    /// <summary>At most this many frames encoded per second (the model is usually slower).</summary>
    public double MaxFps { get; init; } = 15;

    public void Validate()
    {
        if (JpegQuality is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(JpegQuality), $"JPEG quality {JpegQuality}: expected 1 to 100");
        if (!(MaxFps > 0) || double.IsInfinity(MaxFps)) throw new ArgumentOutOfRangeException(nameof(MaxFps), $"max fps {MaxFps}: expected a positive number");
    }
}
