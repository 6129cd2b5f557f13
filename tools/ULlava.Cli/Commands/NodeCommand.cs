using ULlava.Perception.Capture;
using ULlava.Perception.Core.Inference;
using ULlava.Perception.Model.Inference;
using ULlava.Perception.Node.Hosting;
using ULlava.Perception.Node.Instructions;
using ULlava.Perception.Node.Pipeline;
using ULlava.Perception.Transport;

namespace ULlava.Cli.Commands;

/// <summary>`ullava node`: the perception node. With no options: the bundled sample video and model, one segmentation.</summary>
public static class NodeCommand
{
    public const string Usage =
        "node [--source [ID=]URI]... [--model DIR] [--device cpu|cuda[:N]] [--dtype float32|bfloat16|float16] [--libtorch DIR]\n" +
        "       [--segment TEXT]... [--ground TEXT]... [--ask TEXT]... [--caption] [--instruction TEXT]...\n" +
        "       [--every N] [--max-fps F] [--max-new-tokens N] [--pub ENDPOINT] [--cmd ENDPOINT|none] [--loop] [--max-frames N] [--quiet]\n" +
        "       [--curve-public FILE --curve-secret FILE [--allow-clients DIR|FILE] [--encrypt-results]]";

    public const string DefaultSegmentation = "Please segment and locate the red circle in this image.";

    public static int Run(ArgReader args)
    {
        var sources = args.All("--source").Select(SourceSpec.Parse).ToList();
        if (sources.Count == 0) sources.Add(new SourceSpec("stream0", BundledAssets.SampleVideo));
        var model = ModelArgs.Read(args);
        int maxNewTokens = args.Int("--max-new-tokens", 64, 1, 4096);
        var instructions = ReadInstructions(args, maxNewTokens);
        var options = new NodeOptions
        {
            Sources = sources,
            Instructions = instructions,
            PublishEndpoint = args.Optional("--pub") ?? "tcp://127.0.0.1:5556",
            CommandEndpoint = args.Optional("--cmd") is { } cmd ? (cmd == "none" ? null : cmd) : "tcp://127.0.0.1:5557",
            Security = ReadSecurity(args),
            EncryptResults = args.Has("--encrypt-results"),
            Loop = args.Has("--loop"),
            EveryNFrames = 1,
            MaxFps = args.Double("--max-fps", 0, 0, 1000),
            MaxFrames = args.Int("--max-frames", 0, 0, int.MaxValue),
            PrintFrames = !args.Has("--quiet"),
        };
        int everyN = args.Int("--every", 1, 1, 100_000);
        args.EnsureAllUsed();
        options = options with { EveryNFrames = everyN };
        options.Validate();

        using var engine = model.Load();
        Console.Error.WriteLine($"model: {engine.Description}");
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            cancel.Cancel();
        });
        var node = new PerceptionNode(options, engine, spec => new VideoCaptureSource(spec.StreamId, spec.Uri, options.Loop), Console.Out);
        _ = node.PublishEndpoint.ContinueWith(t => Console.Error.WriteLine($"publishing on {t.Result}"), TaskContinuationOptions.OnlyOnRanToCompletion);
        _ = node.CommandEndpoint.ContinueWith(t => Console.Error.WriteLine(t.Result is null ? "no command channel" : $"commands on {t.Result}"), TaskContinuationOptions.OnlyOnRanToCompletion);
        int code = node.RunAsync(cancel.Token).GetAwaiter().GetResult();
        Console.Error.WriteLine($"processed {node.FramesProcessed} frames");
        return code;
    }

    private static CommandSecurity? ReadSecurity(ArgReader args)
    {
        string? publicKey = args.Optional("--curve-public"), secretKey = args.Optional("--curve-secret"), allow = args.Optional("--allow-clients");
        if (publicKey is null && secretKey is null)
        {
            if (allow is not null) throw new UsageException("--allow-clients needs the node's key pair (--curve-public, --curve-secret)");
            return null;
        }
        if (publicKey is null || secretKey is null) throw new UsageException("--curve-public and --curve-secret go together");
        return new CommandSecurity(CurveKeys.Read(publicKey, secretKey), allow is null ? null : CurveKeys.ReadAllowList(allow));
    }

    private static List<StandingInstruction> ReadInstructions(ArgReader args, int maxNewTokens)
    {
        var list = new List<StandingInstruction>();
        void Add(string prefix, InstructionKind kind, string text) =>
            list.Add(new StandingInstruction($"{prefix}-{list.Count(i => i.Id.StartsWith(prefix, StringComparison.Ordinal)) + 1}",
                                             new InstructionRequest(text, kind, maxNewTokens)));
        foreach (var text in args.All("--segment")) Add("seg", InstructionKind.Segment, text);
        foreach (var text in args.All("--ground")) Add("loc", InstructionKind.Ground, text);
        foreach (var text in args.All("--ask")) Add("ask", InstructionKind.Ask, text);
        foreach (var text in args.All("--instruction")) Add("auto", InstructionKind.Auto, text);
        if (args.Has("--caption")) Add("cap", InstructionKind.Caption, "Please describe this image briefly.");
        if (list.Count == 0) Add("seg", InstructionKind.Segment, DefaultSegmentation);
        return list;
    }
}
