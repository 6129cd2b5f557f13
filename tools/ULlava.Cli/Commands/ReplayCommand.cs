using ULlava.Perception.Node.Replay;

namespace ULlava.Cli.Commands;

/// <summary>
/// `ullava replay FILE`: feeds a recording back through the node (frames, and the recorded commands between the
/// same frames), publishes as a live node would, and compares every result with the recorded one.
/// </summary>
public static class ReplayCommand
{
    public const string Usage = "replay FILE.mcap [--realtime] [--model DIR] [--device D] [--dtype T] [--threads N] [--pub ENDPOINT] [--quiet]";

    public static int Run(ArgReader args)
    {
        bool realtime = args.Has("--realtime");
        bool quiet = args.Has("--quiet");
        string publish = args.Optional("--pub") ?? "tcp://127.0.0.1:5556";
        var model = ModelArgs.Read(args);
        string path = args.Positional("FILE");
        args.EnsureAllUsed();
        using var engine = model.Load();
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        var report = ReplayRunner.RunAsync(path, engine, realtime, publish, quiet ? TextWriter.Null : Console.Out, cancel.Token).GetAwaiter().GetResult();
        foreach (var problem in report.Problems) Console.Error.WriteLine($"recording: {problem}");
        if (report.Problems.Count > 0)
        {
            Console.Error.WriteLine($"recording: damaged ({report.Problems.Count} problem(s)); the readable part was replayed" +
                                    (report.ResultsWithoutFrame > 0 ? $", {report.ResultsWithoutFrame} recorded results not compared (their frames are in the damaged part)" : "") +
                                    (report.Differences > 0 ? "; commands in the damaged part are lost too, which can explain differences" : ""));
        }
        Console.WriteLine($"replayed {report.FramesReplayed} frames and {report.CommandsReplayed} commands; compared {report.ResultsCompared} results: " +
                          (report.Differences == 0 ? "all equal to the recording" : $"{report.Differences} differ, first: {report.FirstDifference}"));
        return report.Differences == 0 ? 0 : 1;
    }
}
