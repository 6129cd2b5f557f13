using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using OpenCvSharp;
using ULlava.Perception.Core.Frames;
using ULlava.Perception.Core.Results;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Node.Pipeline;
using Xunit.Abstractions;

namespace ULlava.Perception.Web.Tests;

/// <summary>
/// The MJPEG preview of a real node (fixture model, sample video, one standing segment instruction), read by an
/// HttpClient and by headless Chromium. The fixture's random weights give a speckled mask over a quarter of the
/// frame and a flat box at its top edge on every sample frame: arbitrary, but there to be drawn, and each picture is
/// matched with the frame the node processed (<see cref="FrameLog"/>).
/// </summary>
public sealed class PreviewServerTests(ITestOutputHelper log)
{
    private const int Width = 640, Height = 480;
    private static readonly Rect FrameArea = new(0, 0, Width, Height);
    private static readonly Scalar BoxColour = FrameAnnotator.BoxColour("seg-1");

    /// <summary>Why a picture is not a processed frame annotated (see <see cref="FrameLog.Match.Problem"/>), or null.</summary>
    private static string? NotAnnotated(Mat picture, FrameLog log, out FrameLog.Match? match, ulong? sequence = null)
    {
        match = null;
        if (picture.Width < Width || picture.Height < Height) return $"picture {picture.Width}x{picture.Height} is smaller than the frame";
        double spread = Pixels.Spread(picture, FrameArea);
        if (spread < 10) return $"the frame area is blank (spread {spread:0.0})";
        match = log.Find(picture, FrameArea, sequence);
        if (match.Problem is { } problem) return problem;
        // The box's label tab is solid colour; JPEG keeps most of it. The sample video has none of that colour.
        int box = Pixels.CountNear(picture, FrameArea, BoxColour, 40);
        using var raw = Pixels.FromFrame(match.Frame.Frame);
        int rawBox = Pixels.CountNear(raw, FrameArea, BoxColour, 40);
        if (box < 100 || rawBox > 10) return $"{box} pixels of the box colour {BoxColour} (expected 100 or more; the raw frame has {rawBox})";
        return null;
    }

    [Fact]
    public async Task TheStreamIsMultipartJpegOfSuccessiveAnnotatedFramesEncodedOnlyWhileWatched()
    {
        await using var running = new RunningNode();
        var frames = new FrameLog();
        running.Node.FrameProcessed += frames.Add;
        await using var preview = new PreviewServer(running.Node, "http://127.0.0.1:0/");
        string page = await preview.StartAsync(CancellationToken.None);
        Assert.Matches(@"^http://127\.0\.0\.1:\d+/$", page);
        running.Start();
        await running.WaitForAsync(() => running.Node.FramesProcessed >= 2, "two processed frames");
        Assert.Equal(0, preview.FramesEncoded); // nobody is watching: nothing is annotated or encoded
        Assert.Equal(0, preview.Clients);

        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var parts = new List<(byte[] Jpeg, FrameLog.Match? Match, string? Problem)>();
        using (var response = await http.GetAsync(preview.StreamUrl, HttpCompletionOption.ResponseHeadersRead, limit.Token))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var type = response.Content.Headers.ContentType!;
            Assert.Equal("multipart/x-mixed-replace", type.MediaType);
            string boundary = type.Parameters.Single(p => p.Name == "boundary").Value!;
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
            var reader = new MjpegReader(await response.Content.ReadAsStreamAsync(limit.Token), boundary);
            for (int i = 0; i < 3; i++)
            {
                var (headers, jpeg) = await reader.NextAsync(limit.Token);
                Assert.Equal("cam0", headers["X-Stream-Id"]);
                ulong sequence = ulong.Parse(headers["X-Sequence"], CultureInfo.InvariantCulture);
                Assert.True(long.Parse(headers["X-Capture-Time-Unix-Ns"], CultureInfo.InvariantCulture) > 0);
                using var picture = Cv2.ImDecode(jpeg, ImreadModes.Color);
                // Compared with the frame it names, as it arrives (while that frame is still among the recent ones).
                FrameLog.Match? match = null;
                string? problem = picture.Empty() ? "not a decodable JPEG" : NotAnnotated(picture, frames, out match, sequence);
                parts.Add((jpeg, match, problem));
                if (!picture.Empty())
                {
                    Assert.Equal(Width, picture.Width);
                    Assert.True(picture.Height > Height, "the text panel goes under the frame");
                }
            }
            Assert.Equal(1, preview.Clients);
        }
        await running.WaitForAsync(() => preview.Clients == 0, "the preview to notice the client left");

        foreach (var (jpeg, match, problem) in parts)
        {
            log.WriteLine($"part of {jpeg.Length} bytes: {match}");
            Assert.Equal([0xFF, 0xD8], jpeg[..2]); // SOI
            Assert.Equal([0xFF, 0xD9], jpeg[^2..]); // EOI
            Assert.Null(problem);
        }
        // Latest frame only, in order: each part shows a later frame than the one before (as its headers say, and the pixels agree).
        for (int i = 1; i < parts.Count; i++) Assert.True(parts[i].Match!.Sequence > parts[i - 1].Match!.Sequence, $"part {i} does not show a newer frame");
        Assert.InRange(preview.FramesEncoded, 3, running.Node.FramesProcessed);
    }

    [Fact]
    public async Task HeadlessChromiumShowsTheAnnotatedVideoOnThePage()
    {
        await using var running = new RunningNode();
        var frames = new FrameLog();
        running.Node.FrameProcessed += frames.Add;
        await using var preview = new PreviewServer(running.Node, "http://127.0.0.1:0/preview/");
        string page = await preview.StartAsync(CancellationToken.None);
        Assert.EndsWith("/preview/", page);
        running.Start();

        using (var http = new HttpClient())
        {
            string html = await http.GetStringAsync(page);
            Assert.Contains("<img id=\"stream\" src=\"stream.mjpg\"", html);
            Assert.Contains("ullava-tiny sha256:", html);
        }

        // Chromium may start before the node has a frame, or take a while on a busy machine: retry until it shows one.
        string? problem = "no screenshot yet";
        var deadline = DateTime.UtcNow.AddSeconds(150);
        for (int attempt = 1; problem is not null && DateTime.UtcNow < deadline; attempt++)
        {
            byte[]? png = await HeadlessChromium.ScreenshotAsync(page, 800, 700, TimeSpan.FromSeconds(60));
            if (png is null)
            {
                problem = "Chromium wrote no screenshot within 60 s";
                continue;
            }
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
            await File.WriteAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "preview-screenshot.png"), png); // the last one stays for a look when this fails
            using var shot = Cv2.ImDecode(png, ImreadModes.Color);
            Assert.Equal((800, 700), (shot.Width, shot.Height));
            problem = NotAnnotated(shot, frames, out var match);
            log.WriteLine($"screenshot {attempt}: {problem ?? "annotated"}; {match}");
            if (problem is null)
            {
                // Under the frame, the text panel: light text on dark grey.
                Assert.True(Pixels.CountNear(shot, new Rect(0, Height, Width, 18), new Scalar(255, 255, 255), 60) > 30, "no text in the panel's first line");
                // Right of the image, the page's own background: the image is shown at its size, not stretched.
                Assert.True(Pixels.CountNear(shot, new Rect(Width + 10, 0, 800 - Width - 10, Height), new Scalar(17, 17, 17), 3) > 0.99 * (800 - Width - 10) * Height);
            }
            else
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
        Assert.Null(problem);
    }

    [Fact]
    public async Task AClientThatStopsReadingHoldsUpNeitherOtherClientsNorTheNode()
    {
        // No instruction: frames pass at decoding speed and the preview encodes up to 200 a second, so the stalled
        // client's socket and Kestrel's buffers (a few MB on loopback) fill within seconds instead of minutes.
        await using var running = new RunningNode(segment: false);
        await using var preview = new PreviewServer(running.Node, "http://127.0.0.1:0/", new PreviewOptions { MaxFps = 200, JpegQuality = 100 });
        var url = new Uri(await preview.StartAsync(CancellationToken.None));
        running.Start();

        // A client that asks for the stream and never reads.
        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await stalled.ConnectAsync(IPAddress.Loopback, url.Port);
        await stalled.SendAsync(Encoding.ASCII.GetBytes($"GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1:{url.Port}\r\n\r\n"));
        await running.WaitForAsync(() => preview.Clients == 1, "the stalled client to connect");

        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        using var response = await http.GetAsync(new Uri(url, "stream.mjpg"), HttpCompletionOption.ResponseHeadersRead, limit.Token);
        string boundary = response.Content.Headers.ContentType!.Parameters.Single(p => p.Name == "boundary").Value!;
        var reader = new MjpegReader(await response.Content.ReadAsStreamAsync(limit.Token), boundary);
        // Read until the stalled client is 50 parts behind: it is stuck (its buffers full) while this one goes on.
        long read = 0, stalledParts = 0;
        ulong lastSequence = 0;
        while (read - stalledParts < 50)
        {
            var (headers, _) = await reader.NextAsync(limit.Token);
            ulong sequence = ulong.Parse(headers["X-Sequence"], CultureInfo.InvariantCulture);
            Assert.True(read == 0 || sequence > lastSequence, "a part repeats or goes back");
            lastSequence = sequence;
            read++;
            stalledParts = preview.PartsWritten - read;
        }
        long processedThen = running.Node.FramesProcessed;
        log.WriteLine($"read {read} parts; the stalled client got {stalledParts}; frames processed {processedThen}, encoded {preview.FramesEncoded}");
        // ...and the node does not wait for either of them.
        await running.WaitForAsync(() => running.Node.FramesProcessed >= processedThen + 50, "50 more processed frames with the stalled client connected");
    }

    [Fact]
    public void TheAnnotatorDrawsAKnownMaskAndBoxWhereTheyAre()
    {
        const int w = 160, h = 120;
        var rgb = new byte[w * h * 3];
        Array.Fill(rgb, (byte)128);
        var pixels = new byte[w * h];
        for (int y = 30; y < 70; y++)
            for (int x = 40; x < 80; x++)
                pixels[y * w + x] = 1;
        pixels[100 * w + 20] = 1; // a speck: tinted, but not outlined
        var result = new InstructionResult
        {
            InstructionId = "seg-7",
            Instruction = "Please segment the square.",
            Text = "Sure. Mask: ; Location: ;",
            Masks = { new Mask { Rle = new RleMask { Width = w, Height = h, Counts = { CocoRle.Encode(pixels, w, h) } }, Area = 1601 } },
            Boxes = { new Box { Pixels = new PixelBox { XMin = 100, YMin = 20, XMax = 150, YMax = 60 } } },
        };
        var frame = new ProcessedFrame(new Frame(new FrameStamp("cam0", 7, 0), w, h, rgb), [result], 12.5);
        using var image = FrameAnnotator.Render(frame, fps: 2.5, paused: false);

        var mask = FrameAnnotator.MaskColour("seg-7");
        var box = FrameAnnotator.BoxColour("seg-7");
        Vec3b At(int x, int y) => image.At<Vec3b>(y, x);
        Vec3b Colour(Scalar s) => new((byte)s.Val0, (byte)s.Val1, (byte)s.Val2);
        Assert.Equal(Colour(mask), At(40, 50)); // the outline on the mask's edge
        Assert.Equal(Colour(mask), At(60, 30));
        Assert.Equal(Colour(mask), At(79, 50));
        var inside = At(60, 50); // translucent fill: 60 % frame, 40 % colour
        Assert.InRange(inside.Item0, (int)(128 * 0.6 + mask.Val0 * 0.4) - 1, (int)(128 * 0.6 + mask.Val0 * 0.4) + 1);
        Assert.InRange(inside.Item2, (int)(128 * 0.6 + mask.Val2 * 0.4) - 1, (int)(128 * 0.6 + mask.Val2 * 0.4) + 1);
        Assert.Equal(Colour(box), At(100, 45)); // the box's left edge
        Assert.Equal(Colour(box), At(149, 45)); // its right edge (xMax is exclusive)
        Assert.Equal(new Vec3b(128, 128, 128), At(125, 45)); // inside the box: not filled
        Assert.Equal(new Vec3b(128, 128, 128), At(10, 100)); // away from both: untouched
        Assert.Equal(inside, At(20, 100)); // the speck has the fill...
        Assert.Equal(new Vec3b(128, 128, 128), At(21, 100)); // ...and no outline around it
        // Under the frame: a panel of three lines (stream line, instruction, answer) with text in it.
        Assert.Equal(w, image.Width);
        Assert.Equal(h + 3 * 18 + 8, image.Height);
        Assert.True(Pixels.CountNear(image, new Rect(0, h, w, 18), new Scalar(255, 255, 255), 60) > 20);
        Assert.True(Pixels.CountNear(image, new Rect(0, h + 18, w, 18), mask, 60) > 10); // the instruction in its mask colour
    }

    [Fact]
    public void TextTheHersheyFontCannotDrawIsReplaced()
    {
        Assert.Equal("caf? a b", FrameAnnotator.Printable("café a\nb", 20));
        Assert.Equal("abcd...", FrameAnnotator.Printable("abcdefghijk", 7));
    }
}
