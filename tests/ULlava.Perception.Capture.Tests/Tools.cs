using System.Diagnostics;

namespace ULlava.Perception.Capture.Tests;

/// <summary>Runs Debian's ffmpeg/ffprobe for fixtures the tests render themselves.</summary>
internal static class Tools
{
    public static string Run(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill();
            throw new TimeoutException($"{file} did not finish within 60 s");
        }
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed: {stderr.Result}");
        return stdout;
    }

    /// <summary>A small MPEG-4 clip of ffmpeg's testsrc: <paramref name="frames"/> frames, 160x120, 10 fps.</summary>
    public static string RenderTestClip(string directory, int frames)
    {
        string path = Path.Combine(directory, "testsrc.mp4");
        Run("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10",
            "-frames:v", frames.ToString(), "-c:v", "mpeg4", "-pix_fmt", "yuv420p", path);
        return path;
    }

    public static int NbFrames(string path) =>
        int.Parse(Run("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=nb_frames", "-of", "csv=p=0", path).Trim());
}
