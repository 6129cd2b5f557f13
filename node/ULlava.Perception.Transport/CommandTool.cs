using System.Globalization;
using Google.Protobuf;
using ULlava.Perception.Messages.V1;

namespace ULlava.Perception.Transport;

/// <summary>
/// The `command` CLI verb as a library: `&lt;verb&gt; ...` arguments become a <see cref="Command"/>, which goes over a
/// DEALER to the node and comes back as the <see cref="Reply"/> in protobuf JSON. Bad arguments throw
/// <see cref="ArgumentException"/> with a message that names the verb, the option and what was wrong.
/// </summary>
public static class CommandTool
{
    public const string Usage = """
        command [--endpoint tcp://127.0.0.1:5557] [--timeout SECONDS] [CURVE options] <verb> ...
          add TEXT [--kind auto|caption|ask|segment|ground] [--stream ID]... [--every N] [--max-rate HZ]
                   [--video [--window-seconds S] [--window-frames N]]
          remove ID
          list
          ask TEXT [--kind K] [--stream ID] [--sequence N] [--video [--window-seconds S] [--window-frames N]]
          sam [--point X,Y[,1|0]]... [--box X0,Y0,X1,Y1] [--stream ID] [--sequence N] [--multimask]
          pause
          resume
          sampling [--max-fps F] [--every N] [--on-demand] [--stream ID]
          record-start PATH [--format jpeg|png] [--jpeg-quality 1-100]
          record-stop
          status
        """;

    public const string CurveUsage = """
        CURVE options: --server-key FILE (the node's Z85 public key) [--client-key FILE --client-secret FILE]
        """;

    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default);

    /// <summary>Parses `&lt;verb&gt; ...` (without the endpoint options) into a command with a fresh request id.</summary>
    public static Command Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0) throw new ArgumentException("no verb: expected one of add, remove, list, ask, sam, pause, resume, sampling, record-start, record-stop, status");
        string verb = args[0];
        var rest = args.Skip(1).ToList();
        var command = new Command { RequestId = Guid.NewGuid().ToString("N")[..12] };
        switch (verb)
        {
            case "add":
            {
                var a = Options.Read(verb, rest, ["--kind", "--stream", "--every", "--max-rate", "--window-seconds", "--window-frames"], ["--video"]);
                var spec = Spec(a);
                spec.StreamIds.AddRange(a.All("--stream").Select(s => StreamId(verb, s)));
                if (a.One("--every") is { } every) spec.EveryNFrames = a.UInt("--every", every, min: 1);
                if (a.One("--max-rate") is { } rate) spec.MaxRateHz = a.Double("--max-rate", rate);
                command.AddInstruction = new AddInstruction { Spec = spec };
                break;
            }
            case "remove":
            {
                var a = Options.Read(verb, rest, [], []);
                command.RemoveInstruction = new RemoveInstruction { Id = a.Single("ID") };
                break;
            }
            case "ask":
            {
                var a = Options.Read(verb, rest, ["--kind", "--stream", "--sequence", "--window-seconds", "--window-frames"], ["--video"]);
                var ask = new Ask { Spec = Spec(a) };
                if (a.One("--stream") is { } stream) ask.StreamId = StreamId(verb, stream);
                if (a.One("--sequence") is { } sequence) (ask.Sequence, ask.HasSequence) = (a.ULong("--sequence", sequence), true);
                command.Ask = ask;
                break;
            }
            case "sam":
            {
                var a = Options.Read(verb, rest, ["--point", "--box", "--stream", "--sequence"], ["--multimask"]);
                a.NoPositionals();
                var sam = new SamPrompt { Multimask = a.Flag("--multimask") };
                foreach (string point in a.All("--point")) sam.Points.Add(Point(a, point));
                if (a.One("--box") is { } box) sam.Box = Box(a, box);
                if (sam.Points.Count == 0 && sam.Box is null) throw a.Error("needs at least one --point X,Y[,1|0] or a --box X0,Y0,X1,Y1");
                if (a.One("--stream") is { } stream) sam.StreamId = StreamId(verb, stream);
                if (a.One("--sequence") is { } sequence) (sam.Sequence, sam.HasSequence) = (a.ULong("--sequence", sequence), true);
                command.SamPrompt = sam;
                break;
            }
            case "sampling":
            {
                var a = Options.Read(verb, rest, ["--max-fps", "--every", "--stream"], ["--on-demand"]);
                a.NoPositionals();
                var sampling = new SetSampling { OnDemand = a.Flag("--on-demand") };
                if (a.One("--max-fps") is { } fps) sampling.MaxFps = a.Double("--max-fps", fps);
                if (a.One("--every") is { } every) sampling.EveryNFrames = a.UInt("--every", every, min: 1);
                if (a.One("--stream") is { } stream) sampling.StreamId = StreamId(verb, stream);
                command.SetSampling = sampling;
                break;
            }
            case "record-start":
            {
                var a = Options.Read(verb, rest, ["--format", "--jpeg-quality"], []);
                var start = new StartRecording { Path = a.Single("PATH") };
                if (a.One("--format") is { } format)
                    start.ImageFormat = format is "jpeg" or "png" ? format : throw a.Error($"--format must be jpeg or png, not '{format}'");
                if (a.One("--jpeg-quality") is { } quality)
                {
                    start.JpegQuality = a.UInt("--jpeg-quality", quality, min: 1);
                    if (start.JpegQuality > 100) throw a.Error($"--jpeg-quality must be 1 to 100, not {quality}");
                }
                command.StartRecording = start;
                break;
            }
            case "list": NoArguments(verb, rest); command.ListInstructions = new ListInstructions(); break;
            case "pause": NoArguments(verb, rest); command.Pause = new Pause(); break;
            case "resume": NoArguments(verb, rest); command.Resume = new Resume(); break;
            case "record-stop": NoArguments(verb, rest); command.StopRecording = new StopRecording(); break;
            case "status": NoArguments(verb, rest); command.GetStatus = new GetStatus(); break;
            default: throw new ArgumentException($"unknown verb '{verb}': expected one of add, remove, list, ask, sam, pause, resume, sampling, record-start, record-stop, status");
        }
        return command;
    }

    /// <summary>Parses, sends and waits for the reply (print it with <see cref="ToJson"/>).</summary>
    /// <exception cref="ArgumentException">The verb or its arguments are wrong.</exception>
    /// <exception cref="TimeoutException">No reply in time (the node is down, or refuses this client's key).</exception>
    public static Reply Run(string endpoint, IReadOnlyList<string> args, TimeSpan timeout, CurveClientKeys? curve = null)
    {
        var command = Parse(args);
        using var client = new CommandClient(endpoint, curve);
        return client.Send(command, timeout);
    }

    public static string ToJson(IMessage message) => Json.Format(message);

    private static InstructionSpec Spec(Options a)
    {
        var spec = new InstructionSpec { Text = string.Join(' ', a.Positionals) };
        if (spec.Text.Trim().Length == 0) throw a.Error("needs the instruction TEXT");
        if (a.One("--kind") is { } kind)
        {
            spec.Kind = kind switch
            {
                "auto" => InstructionKind.Auto,
                "caption" => InstructionKind.Caption,
                "ask" => InstructionKind.Ask,
                "segment" => InstructionKind.Segment,
                "ground" => InstructionKind.Ground,
                _ => throw a.Error($"--kind must be auto, caption, ask, segment or ground, not '{kind}'"),
            };
        }
        bool video = a.Flag("--video");
        string? seconds = a.One("--window-seconds"), frames = a.One("--window-frames");
        if (!video && (seconds ?? frames) is not null) throw a.Error("--window-seconds and --window-frames need --video");
        if (video) spec.Mode = InstructionMode.Video;
        if (seconds is not null) spec.WindowSeconds = a.Double("--window-seconds", seconds, positive: true);
        if (frames is not null) spec.WindowFrames = a.UInt("--window-frames", frames, min: 1);
        return spec;
    }

    private static PointPrompt Point(Options a, string value)
    {
        string[] parts = value.Split(',');
        if (parts.Length is not (2 or 3)) throw a.Error($"--point must be X,Y or X,Y,1|0, not '{value}'");
        var point = new PointPrompt { X = a.Coordinate("--point", parts[0]), Y = a.Coordinate("--point", parts[1]), Positive = true };
        if (parts.Length == 3)
            point.Positive = parts[2] switch { "1" => true, "0" => false, _ => throw a.Error($"--point label must be 1 (object) or 0 (background), not '{parts[2]}'") };
        return point;
    }

    private static PixelBox Box(Options a, string value)
    {
        string[] parts = value.Split(',');
        if (parts.Length != 4) throw a.Error($"--box must be X0,Y0,X1,Y1, not '{value}'");
        var box = new PixelBox
        {
            XMin = a.Coordinate("--box", parts[0]), YMin = a.Coordinate("--box", parts[1]),
            XMax = a.Coordinate("--box", parts[2]), YMax = a.Coordinate("--box", parts[3]),
        };
        if (box.XMax <= box.XMin || box.YMax <= box.YMin) throw a.Error($"--box needs X0 < X1 and Y0 < Y1, got '{value}'");
        return box;
    }

    private static string StreamId(string verb, string id) =>
        Messages.Topics.IsValidStreamId(id) ? id : throw new ArgumentException($"{verb}: --stream '{id}' is not a stream id (letters, digits, '-', '_', '.', 1 to 64)");

    private static void NoArguments(string verb, List<string> rest)
    {
        if (rest.Count > 0) throw new ArgumentException($"{verb} takes no arguments, got '{string.Join(' ', rest)}'");
    }

    /// <summary>One verb's arguments: positionals, valued options (repeatable) and flags.</summary>
    private sealed class Options
    {
        private readonly string verb;
        private readonly Dictionary<string, List<string>> values = new(StringComparer.Ordinal);
        private readonly HashSet<string> flags = new(StringComparer.Ordinal);

        private Options(string verb) => this.verb = verb;

        public List<string> Positionals { get; } = [];

        public static Options Read(string verb, List<string> args, string[] valued, string[] flagNames)
        {
            var o = new Options(verb);
            for (int i = 0; i < args.Count; i++)
            {
                string arg = args[i];
                if (!arg.StartsWith("--", StringComparison.Ordinal) || arg == "--") { o.Positionals.Add(arg); continue; }
                if (flagNames.Contains(arg)) o.flags.Add(arg);
                else if (valued.Contains(arg))
                {
                    if (i + 1 >= args.Count) throw o.Error($"{arg} needs a value");
                    if (!o.values.TryGetValue(arg, out var list)) o.values[arg] = list = [];
                    list.Add(args[++i]);
                }
                else
                {
                    string known = string.Join(", ", valued.Concat(flagNames));
                    throw o.Error($"unknown option {arg}" + (known.Length > 0 ? $" (options: {known})" : " (it takes none)"));
                }
            }
            return o;
        }

        public ArgumentException Error(string message) => new($"{verb}: {message}");

        public bool Flag(string name) => flags.Contains(name);

        public IReadOnlyList<string> All(string name) => values.TryGetValue(name, out var list) ? list : [];

        public string? One(string name) => All(name) switch
        {
            [] => null,
            [var one] => one,
            _ => throw Error($"{name} given more than once"),
        };

        public string Single(string what)
        {
            if (Positionals.Count != 1) throw Error($"needs exactly one {what}, got {Positionals.Count}");
            return Positionals[0];
        }

        public void NoPositionals()
        {
            if (Positionals.Count > 0) throw Error($"unexpected argument '{Positionals[0]}'");
        }

        public uint UInt(string name, string value, uint min) =>
            uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out uint n) && n >= min
                ? n : throw Error($"{name} must be a whole number >= {min}, not '{value}'");

        public ulong ULong(string name, string value) =>
            ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n) ? n : throw Error($"{name} must be a whole number >= 0, not '{value}'");

        public double Double(string name, string value, bool positive = false) =>
            double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) && (positive ? d > 0 : d >= 0)
                ? d : throw Error($"{name} must be a number {(positive ? "> 0" : ">= 0")}, not '{value}'");

        public float Coordinate(string name, string value) =>
            float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) && float.IsFinite(f) && f >= 0
                ? f : throw Error($"{name} coordinates must be pixel numbers >= 0, not '{value}'");
    }
}
