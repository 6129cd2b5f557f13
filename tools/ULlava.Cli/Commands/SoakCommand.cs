using System.Runtime.InteropServices;
using ULlava.Cli.Soak;

namespace ULlava.Cli.Commands;

/// <summary>
/// `ullava soak`: the node on a live RTSP stream for a while (default 10 minutes) with two standing instructions and
/// a subscriber; checks memory, latency, a clean SIGTERM stop and that no child process is left. Exit 1 on a failure.
/// </summary>
public static class SoakCommand
{
    public const string Usage =
        "soak [--seconds N] [--fps F] [--width W] [--height H] [--max-new-tokens N]\n" +
        "  runs GStreamer's RTSP server (Debian's python3) and `ullava node` on it with the bundled model; prints memory\n" +
        "  growth after warm-up (limit 5 %), latency per time slice (last third at most 1.5x the second), the stop (SIGTERM:\n" +
        "  exit 0 within 2 s) and any process left; exit 1 when a limit is broken.";

    public static int Run(ArgReader args)
    {
        var options = new SoakOptions
        {
            Seconds = args.Int("--seconds", 600, 15, 7 * 24 * 3600),
            Fps = args.Int("--fps", 10, 1, 60),
            Width = args.Int("--width", 320, 32, 1920),
            Height = args.Int("--height", 240, 32, 1080),
            MaxNewTokens = args.Int("--max-new-tokens", 16, 1, 4096),
        };
        args.EnsureAllUsed();
        using var stop = new CancellationTokenSource();
        void Interrupt(PosixSignalContext context)
        {
            context.Cancel = true; // stop the soak's children first, then report
            stop.Cancel();
        }
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
        var report = SoakRunner.Run(options, Console.Error, stop.Token);
        report.Print(Console.Out);
        return report.Passed ? 0 : 1;
    }
}
