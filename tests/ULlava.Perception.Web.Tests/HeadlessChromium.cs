using System.Diagnostics;

namespace ULlava.Perception.Web.Tests;

/// <summary>Debian's chromium in headless mode: one screenshot of a page, the browser killed (with its children) afterwards.</summary>
internal static class HeadlessChromium
{
    public static string Path => new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("headless Chromium is needed: apt-get install chromium (run.sh test installs it)");

    /// <summary>
    /// The page as PNG bytes, or null when Chromium wrote none within <paramref name="timeout"/>. Chromium takes the
    /// screenshot once the page has loaded; an MJPEG image counts as loaded at its first frame.
    /// (--virtual-time-budget would wait for the endless stream to finish, so it is not used.)
    /// </summary>
    public static async Task<byte[]?> ScreenshotAsync(string url, int width, int height, TimeSpan timeout)
    {
        var dir = Directory.CreateTempSubdirectory("ullava-chromium");
        string png = System.IO.Path.Combine(dir.FullName, "page.png");
        var start = new ProcessStartInfo(Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-extensions",
                     $"--user-data-dir={System.IO.Path.Combine(dir.FullName, "profile")}", $"--screenshot={png}", $"--window-size={width},{height}", url,
                 })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Path}");
        var drain = Task.WhenAll(process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
        try
        {
            using var limit = new CancellationTokenSource(timeout);
            await process.WaitForExitAsync(limit.Token);
            return File.Exists(png) ? await File.ReadAllBytesAsync(png) : null;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        finally
        {
            // By pid, with every process it started (zygote, renderer, GPU process).
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            await drain;
            dir.Delete(recursive: true);
        }
    }
}
