using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ULlava.Cli.Settings;
using ULlava.Perception.Capture;
using ULlava.Perception.Core.Inference;
using ULlava.Perception.Model.Inference;
using ULlava.Perception.Node.Hosting;
using ULlava.Perception.Node.Instructions;
using ULlava.Perception.Node.Pipeline;
using ULlava.Perception.Transport;
using ULlava.Perception.Calibration;
using ULlava.Perception.Node.Results;
using ULlava.Perception.Web;

namespace ULlava.Cli.Commands;

/// <summary>`ullava node`: the perception node. With no options: the bundled sample video and model, one segmentation.</summary>
public static class NodeCommand
{
    public const string Usage =
        "node [--source [ID=]URI]... [--model DIR] [--device cpu|cuda[:N]] [--dtype float32|bfloat16|float16] [--libtorch DIR] [--threads N]\n" +
        "       [--segment TEXT]... [--ground TEXT]... [--ask TEXT]... [--caption] [--instruction TEXT]...\n" +
        "       [--every N] [--max-fps F] [--max-new-tokens N] [--pub ENDPOINT] [--cmd ENDPOINT|none] [--loop] [--max-frames N] [--quiet]\n" +
        "       [--stall-timeout S] [--calibration [ID=]FILE]... [--mount [ID=]HEIGHT,PITCH]... " +
        "[--record FILE.mcap [--record-format png|jpeg] [--record-quality Q] [--record-max-mb N] [--record-max-minutes N]]\n" +
        "       [--curve-public FILE --curve-secret FILE [--allow-clients DIR|FILE] [--encrypt-results]]\n" +
        "       [--config FILE.yaml] [--node-id ID] [--log-level trace|debug|information|warning|error] [--log-format text|json] [--check]\n" +
        "       [--metrics [URL]] [--preview [URL]]\n" +
        "       (every option can also come from ULLAVA_<OPTION> or the --config file; the command line wins, then the environment)";

    public const string DefaultSegmentation = "Please segment and locate the red circle in this image.";

    public static int Run(ArgReader args)
    {
        // Precedence: command line > environment (ULLAVA_*) > configuration file > defaults.
        string? configFile = args.Optional("--config") ?? Environment.GetEnvironmentVariable("ULLAVA_CONFIG");
        args.WithLayers(configFile is null ? [EnvironmentLayer.FromProcess()] : [EnvironmentLayer.FromProcess(), ConfigFileLayer.Read(configFile)]);
        var sources = args.All("--source").Select(SourceSpec.Parse).ToList();
        if (sources.Count == 0) sources.Add(new SourceSpec("stream0", BundledAssets.SampleVideo));
        sources = WithCameras(sources, args.All("--calibration"), args.All("--mount"));
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
            Record = args.Optional("--record") is { } record
                ? new RecordingSettings(record, args.Choice("--record-format", "png", "png", "jpeg"), args.Int("--record-quality", 90, 1, 100),
                                        (long)args.Int("--record-max-mb", 0, 0, 1_000_000) << 20, TimeSpan.FromMinutes(args.Int("--record-max-minutes", 0, 0, 100_000)))
                : null,
            Description = new Dictionary<string, string> { ["command_line"] = string.Join(" ", Environment.GetCommandLineArgs().Skip(1)) },
            Loop = args.Has("--loop"),
            EveryNFrames = 1,
            MaxFps = args.Double("--max-fps", 0, 0, 1000),
            MaxFrames = args.Int("--max-frames", 0, 0, int.MaxValue),
            PrintFrames = !args.Has("--quiet"),
        };
        int everyN = args.Int("--every", 1, 1, 100_000);
        double stallSeconds = args.Double("--stall-timeout", 2, 0.1, 3600);
        string? nodeId = args.Optional("--node-id");
        var logging = NodeLogging.Read(args);
        bool checkOnly = args.Has("--check");
        string? metricsUrl = args.SwitchOrValue(MetricsServer.Setting, MetricsServer.DefaultUrl);
        string? previewUrl = args.SwitchOrValue(PreviewServer.Setting, PreviewServer.DefaultUrl);
        args.EnsureAllUsed();
        options = options with { EveryNFrames = everyN, NodeId = nodeId ?? options.NodeId };
        options.Validate();
        if (checkOnly)
        {
            // For an ExecStartPre= or a deploy script: the settings are complete and valid; nothing is started.
            Console.WriteLine($"settings ok: {options.Sources.Count} source(s), {options.Instructions.Count} instruction(s), model {model.ModelDir}");
            return 0;
        }

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "ullava-node" });
        logging.Configure(builder.Logging);
        builder.Services.AddSystemd(); // under systemd: sd_notify READY/STOPPING and journal-style log lines
        logging.ConfigureAfterSystemd(builder.Services);
        // Stopping normally takes well under a second (one frame in flight, the recording flushed); this is the backstop.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        ULlavaEngine? engine = null;
        var streamOptions = new FfmpegStreamOptions { StallTimeout = TimeSpan.FromSeconds(stallSeconds) };
        builder.Services.AddSingleton(services => new PerceptionNode(options, engine!, spec => SourceFactory.Create(spec.StreamId, spec.Uri, options.Loop, streamOptions),
                                                                     Console.Out, services.GetRequiredService<ILogger<PerceptionNode>>()));
        // The HTTP endpoints start before the node, so a port in use stops the start before any frame is taken.
        if (metricsUrl is not null)
        {
            builder.Services.AddSingleton(services => new MetricsServer(services.GetRequiredService<PerceptionNode>(), metricsUrl,
                                                                        services.GetRequiredService<ILoggerFactory>().CreateLogger("ullava.metrics")));
            builder.Services.AddHostedService(services => services.GetRequiredService<MetricsServer>());
        }
        if (previewUrl is not null)
        {
            builder.Services.AddSingleton(services => new PreviewServer(services.GetRequiredService<PerceptionNode>(), previewUrl,
                                                                        logger: services.GetRequiredService<ILoggerFactory>().CreateLogger("ullava.preview")));
            builder.Services.AddHostedService(services => services.GetRequiredService<PreviewServer>());
        }
        builder.Services.AddSingleton<PerceptionNodeService>();
        builder.Services.AddHostedService(services => services.GetRequiredService<PerceptionNodeService>());
        using var host = builder.Build();

        var log = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ullava.node");
        if (configFile is not null) log.LogInformation("configuration file {Path}", Path.GetFullPath(configFile));
        engine = model.Load();
        log.LogInformation("model: {Model}", engine.Description);
        var service = host.Services.GetRequiredService<PerceptionNodeService>(); // the node is built here, on the loaded engine
        host.Run(); // returns once the node has stopped: SIGTERM/SIGINT, or every source ended (Run disposes the services)
        // A frame left in the model at the stop still uses the engine: the weights are freed when it returns (or at exit).
        engine.Dispose();
        return service.ExitCode;
    }

    /// <summary>--calibration [ID=]FILE and --mount [ID=]HEIGHT,PITCH or [ID=]16 numbers (camera-to-robot, row-major).</summary>
    private static List<SourceSpec> WithCameras(List<SourceSpec> sources, List<string> calibrations, List<string> mounts)
    {
        (string Id, string Value) Split(string text, string option)
        {
            int eq = text.IndexOf('=');
            if (eq > 0) return (text[..eq], text[(eq + 1)..]);
            if (sources.Count == 1) return (sources[0].StreamId, text);
            throw new UsageException($"{option} {text}: with several sources, say which: ID={text}");
        }
        var models = new Dictionary<string, CameraModel>();
        foreach (var c in calibrations)
        {
            var (id, file) = Split(c, "--calibration");
            models[id] = CameraInfoFile.Read(file);
        }
        var mountsById = new Dictionary<string, CameraMount>();
        foreach (var m in mounts)
        {
            var (id, value) = Split(m, "--mount");
            var numbers = value.Split(',').Select(v => double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double d) ? d : double.NaN).ToArray();
            if (numbers.Any(double.IsNaN) || numbers.Length is not (2 or 16))
                throw new UsageException($"--mount {m}: expected HEIGHT,PITCH (metres, radians down) or 16 numbers (4x4 camera-to-robot, row-major)");
            mountsById[id] = numbers.Length == 2 ? CameraMount.FromHeightPitch(numbers[0], numbers[1]) : new CameraMount(numbers);
        }
        foreach (var id in models.Keys.Concat(mountsById.Keys))
            if (sources.All(s => s.StreamId != id)) throw new UsageException($"--calibration/--mount name stream '{id}', which is not a source");
        foreach (var id in mountsById.Keys)
            if (!models.ContainsKey(id)) throw new UsageException($"--mount {id}: a mount needs the camera's --calibration too");
        return sources.Select(s => models.TryGetValue(s.StreamId, out var model)
            ? s with { Camera = new CameraGeometry(model, mountsById.GetValueOrDefault(s.StreamId)) }
            : s).ToList();
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
        if (args.Has("--caption")) Add("cap", InstructionKind.Caption, InstructionRequest.DefaultCaptionQuestion);
        if (list.Count == 0) Add("seg", InstructionKind.Segment, DefaultSegmentation);
        return list;
    }
}
