using System.Text.RegularExpressions;

namespace ULlava.Perception.Capture;

/// <summary>
/// ffmpeg's stderr for one session: the last lines (bounded, for error messages) and the output frame size, read
/// from the "Output #0 ... Stream #0:0: Video: rawvideo ..., WxH" line that ffmpeg prints before the first frame.
/// </summary>
internal sealed partial class FfmpegLog
{
    private const int MaxLines = 64;
    private const int MaxLineLength = 400;

    private readonly Queue<string> lines = new();
    private readonly TaskCompletionSource<(int Width, int Height)?> size = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool inOutput;

    /// <summary>The output size, or null when stderr ended without one (ffmpeg failed before streaming).</summary>
    public Task<(int Width, int Height)?> Size => size.Task;

    public void Add(string line)
    {
        if (line.StartsWith("Output #0", StringComparison.Ordinal)) inOutput = true;
        else if (inOutput && !size.Task.IsCompleted && TryParseRawVideoSize(line) is { } wh) size.TrySetResult(wh);
        lock (lines)
        {
            lines.Enqueue(line.Length > MaxLineLength ? line[..MaxLineLength] + "…" : line);
            while (lines.Count > MaxLines) lines.Dequeue();
        }
    }

    public void Completed() => size.TrySetResult(null);

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (lines) return [.. lines];
        }
    }

    /// <summary>The most telling recent line: the last that is not a deprecation notice or a blank.</summary>
    public string? LastError()
    {
        var all = Lines;
        for (int i = all.Count - 1; i >= 0; i--)
        {
            string l = all[i].Trim();
            if (l.Length > 0 && !l.Contains("deprecated", StringComparison.OrdinalIgnoreCase)) return l;
        }
        return null;
    }

    /// <summary>"  Stream #0:0: Video: rawvideo (RGB[24] / 0x18424752), rgb24(pc, ...), 320x240 [SAR 1:1 DAR 4:3], ..." → (320, 240).</summary>
    public static (int Width, int Height)? TryParseRawVideoSize(string line)
    {
        var m = RawVideoStream().Match(line);
        return m.Success ? (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value)) : null;
    }

    [GeneratedRegex(@"^\s*Stream #\d+:\d+.*: Video: rawvideo\b.*?, (\d{1,5})x(\d{1,5})(?=[ ,\[]|$)")]
    private static partial Regex RawVideoStream();
}
