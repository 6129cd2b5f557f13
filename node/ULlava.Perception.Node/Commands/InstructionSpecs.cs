using ULlava.Perception.Core.Inference;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Node.Instructions;
using CoreKind = ULlava.Perception.Core.Inference.InstructionKind;
using WireKind = ULlava.Perception.Messages.V1.InstructionKind;

namespace ULlava.Perception.Node.Commands;

/// <summary>Wire InstructionSpec ⇄ the node's instruction types, validated field by field.</summary>
public static class InstructionSpecs
{
    public const int DefaultMaxNewTokens = 64;
    public const double DefaultWindowSeconds = 10;
    public const int DefaultWindowFrames = 8;

    public static InstructionRequest ToRequest(InstructionSpec spec, string field = "spec")
    {
        if (string.IsNullOrWhiteSpace(spec.Text) && spec.Kind != WireKind.Caption)
            throw new CommandException(ErrorCode.InvalidArgument, "the instruction text is empty", $"{field}.text");
        if (spec.Text.Length > 4000) throw new CommandException(ErrorCode.InvalidArgument, $"the instruction text has {spec.Text.Length} characters, at most 4000", $"{field}.text");
        if (!Enum.IsDefined(spec.Kind)) throw new CommandException(ErrorCode.InvalidArgument, $"unknown instruction kind {(int)spec.Kind}", $"{field}.kind");
        if (spec.MaxNewTokens > 4096) throw new CommandException(ErrorCode.InvalidArgument, $"max_new_tokens {spec.MaxNewTokens}: at most 4096", $"{field}.max_new_tokens");
        if (!(spec.Temperature >= 0 && spec.Temperature <= 10)) throw new CommandException(ErrorCode.InvalidArgument, $"temperature {spec.Temperature}: expected 0 (greedy) to 10", $"{field}.temperature");
        if (!(spec.TopP >= 0 && spec.TopP <= 1)) throw new CommandException(ErrorCode.InvalidArgument, $"top_p {spec.TopP}: expected 0 (no limit) to 1", $"{field}.top_p");
        string text = spec.Kind == WireKind.Caption && string.IsNullOrWhiteSpace(spec.Text) ? InstructionRequest.DefaultCaptionQuestion : spec.Text;
        return new InstructionRequest(text, (CoreKind)(int)spec.Kind, spec.MaxNewTokens == 0 ? DefaultMaxNewTokens : (int)spec.MaxNewTokens,
                                      spec.Temperature, spec.TopP == 0 ? 1 : spec.TopP);
    }

    public static VideoWindow? ToWindow(InstructionSpec spec, string field = "spec")
    {
        if (spec.Mode == InstructionMode.Image) return null;
        if (!Enum.IsDefined(spec.Mode)) throw new CommandException(ErrorCode.InvalidArgument, $"unknown mode {(int)spec.Mode}", $"{field}.mode");
        var window = new VideoWindow(spec.WindowSeconds == 0 ? DefaultWindowSeconds : spec.WindowSeconds, spec.WindowFrames == 0 ? DefaultWindowFrames : (int)spec.WindowFrames);
        try
        {
            window.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new CommandException(ErrorCode.InvalidArgument, e.Message.Split(" (Parameter")[0], $"{field}.{(e.ParamName == nameof(VideoWindow.Seconds) ? "window_seconds" : "window_frames")}");
        }
        return window;
    }

    public static StandingInstruction ToStanding(string id, InstructionSpec spec, IReadOnlyCollection<string> knownStreams)
    {
        var request = ToRequest(spec);
        foreach (var stream in spec.StreamIds)
            if (!knownStreams.Contains(stream)) throw new CommandException(ErrorCode.NotFound, $"unknown stream '{stream}' (streams: {string.Join(", ", knownStreams)})", "spec.stream_ids");
        if (spec.EveryNFrames > 100_000) throw new CommandException(ErrorCode.InvalidArgument, $"every_n_frames {spec.EveryNFrames}: at most 100000", "spec.every_n_frames");
        if (!(spec.MaxRateHz >= 0 && spec.MaxRateHz <= 1000)) throw new CommandException(ErrorCode.InvalidArgument, $"max_rate_hz {spec.MaxRateHz}: expected 0 (no limit) to 1000", "spec.max_rate_hz");
        return new StandingInstruction(id, request, spec.StreamIds.ToList(), Math.Max(1, (int)spec.EveryNFrames), spec.MaxRateHz, ToWindow(spec));
    }

    public static Instruction ToWire(StandingInstruction instruction)
    {
        var spec = new InstructionSpec
        {
            Text = instruction.Request.Text,
            Kind = (WireKind)(int)instruction.Request.Kind,
            EveryNFrames = (uint)instruction.EveryNFrames,
            MaxRateHz = instruction.MaxRateHz,
            MaxNewTokens = (uint)instruction.Request.MaxNewTokens,
            Temperature = instruction.Request.Temperature,
            TopP = instruction.Request.TopP,
            Mode = instruction.Video is null ? InstructionMode.Image : InstructionMode.Video,
            WindowSeconds = instruction.Video?.Seconds ?? 0,
            WindowFrames = (uint)(instruction.Video?.Frames ?? 0),
        };
        spec.StreamIds.AddRange(instruction.StreamIds);
        return new Instruction { Id = instruction.Id, Spec = spec, AddedUnixNs = instruction.AddedUnixNs, Runs = (ulong)instruction.Runs };
    }
}
