namespace ULlava.Perception.Capture.Tests;

public sealed class FfmpegLogTests
{
    // Lines printed by Debian 12's ffmpeg 5.1 reading the test RTSP server (the input line has a size too).
    private static readonly string[] Session =
    [
        "Input #0, rtsp, from 'rtsp://127.0.0.1:18554/test':",
        "  Stream #0:0: Video: h264 (Constrained Baseline), yuv420p(tv, smpte170m, progressive), 640x480 [SAR 1:1 DAR 4:3], 15 fps, 15 tbr, 90k tbn",
        "Stream mapping:",
        "  Stream #0:0 -> #0:0 (h264 (native) -> rawvideo (native))",
        "Output #0, rawvideo, to 'pipe:1':",
        "  Metadata:",
        "    encoder         : Lavf59.27.100",
        "  Stream #0:0: Video: rawvideo (RGB[24] / 0x18424752), rgb24(pc, gbr/smpte170m/smpte170m, progressive), 320x240 [SAR 1:1 DAR 4:3], q=2-31, 27648 kb/s, 15 fps, 15 tbn",
    ];

    [Fact]
    public async Task TheSizeIsTheOutputStreamsNotTheInputs()
    {
        var log = new FfmpegLog();
        foreach (var line in Session) log.Add(line);
        Assert.Equal((320, 240), await log.Size);
    }

    [Fact]
    public async Task StderrEndingWithoutOutputGivesNoSizeAndTheLastError()
    {
        var log = new FfmpegLog();
        log.Add("-vsync is deprecated. Use -fps_mode");
        log.Add("[tcp @ 0x55] Connection to tcp://127.0.0.1:1?timeout=5000000 failed: Connection refused");
        log.Add("rtsp://127.0.0.1:1/x: Connection refused");
        log.Completed();
        Assert.Null(await log.Size);
        Assert.Equal("rtsp://127.0.0.1:1/x: Connection refused", log.LastError());
    }

    [Fact]
    public void TheLogKeepsOnlyTheLastLines()
    {
        var log = new FfmpegLog();
        for (int i = 0; i < 1000; i++) log.Add($"line {i} " + new string('x', 1000));
        Assert.Equal(64, log.Lines.Count);
        Assert.StartsWith("line 999 ", log.Lines[^1]);
        Assert.True(log.Lines.All(l => l.Length <= 401));
    }
}
