using System.Diagnostics;

namespace ULlava.Perception.Capture;

/// <summary>
/// What the installed ffmpeg can do, asked once per executable: the input protocols, whether the RTSP demuxer exists,
/// and which option names this version uses (RTSP's socket timeout was -stimeout before ffmpeg 5, -timeout after;
/// -fps_mode replaced -vsync in 5.1).
/// </summary>
internal sealed class FfmpegTool
{
    private static readonly Dictionary<string, FfmpegTool> Cache = new(StringComparer.Ordinal);

    private FfmpegTool(string path, HashSet<string> inputProtocols, bool hasRtsp, string rtspTimeoutOption, bool hasFpsMode)
    {
        Path = path;
        InputProtocols = inputProtocols;
        HasRtspDemuxer = hasRtsp;
        RtspTimeoutOption = rtspTimeoutOption;
        HasFpsMode = hasFpsMode;
    }

    public string Path { get; }
    public IReadOnlySet<string> InputProtocols { get; }
    public bool HasRtspDemuxer { get; }
    public string RtspTimeoutOption { get; }
    public bool HasFpsMode { get; }

    /// <summary>Throws <see cref="FileNotFoundException"/> with the package to install when ffmpeg is missing.</summary>
    public static FfmpegTool Get(string ffmpeg)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(ffmpeg, out var known)) return known;
            string path = Resolve(ffmpeg)
                ?? throw new FileNotFoundException($"ffmpeg not found ('{ffmpeg}'): network streams need it (Debian: apt-get install ffmpeg)", ffmpeg);
            string protocols = Run(path, "-hide_banner -protocols");
            var inputs = new HashSet<string>(StringComparer.Ordinal);
            bool inInputs = false;
            foreach (var raw in protocols.Split('\n'))
            {
                string line = raw.Trim();
                if (line == "Input:") inInputs = true;
                else if (line == "Output:") inInputs = false;
                else if (inInputs && line.Length > 0) inputs.Add(line);
            }
            bool hasRtsp = Run(path, "-hide_banner -demuxers").Split('\n').Any(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, "rtsp", ..]);
            string rtspHelp = hasRtsp ? Run(path, "-hide_banner -h demuxer=rtsp") : "";
            string timeoutOption = rtspHelp.Contains("-stimeout", StringComparison.Ordinal) ? "-stimeout" : "-timeout";
            bool fpsMode = Run(path, "-hide_banner -h long").Contains("-fps_mode", StringComparison.Ordinal);
            var tool = new FfmpegTool(path, inputs, hasRtsp, timeoutOption, fpsMode);
            Cache[ffmpeg] = tool;
            return tool;
        }
    }

    /// <summary>Whether this ffmpeg can read a uri with this scheme (lower case, without "://").</summary>
    public bool CanRead(string scheme) => scheme switch
    {
        "rtsp" => HasRtspDemuxer && InputProtocols.Contains("tcp"),
        "rtsps" => HasRtspDemuxer && InputProtocols.Contains("tls"),
        _ => InputProtocols.Contains(scheme),
    };

    private static string? Resolve(string ffmpeg)
    {
        if (ffmpeg.Contains('/')) return File.Exists(ffmpeg) ? System.IO.Path.GetFullPath(ffmpeg) : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = System.IO.Path.Combine(dir, ffmpeg);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private static string Run(string path, string arguments)
    {
        var psi = new ProcessStartInfo(path, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi) ?? throw new IOException($"could not start {path}");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(10_000))
        {
            process.Kill();
            throw new IOException($"{path} {arguments} did not answer within 10 s");
        }
        return stdout + stderr.Result;
    }
}
