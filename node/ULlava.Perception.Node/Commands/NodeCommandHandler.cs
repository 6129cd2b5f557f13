using System.Diagnostics;
using ULlava.Perception.Core.Inference;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Node.Hosting;
using ULlava.Perception.Node.Pipeline;
using ULlava.Perception.Transport;
using WireKind = ULlava.Perception.Messages.V1.InstructionKind;

namespace ULlava.Perception.Node.Commands;

/// <summary>
/// Carries out the commands of the command channel on a running node. Instruction changes apply at once (the
/// model thread reads a snapshot per frame); asks and SAM prompts run on the model thread between frames. Every
/// failure is an error reply naming the field; nothing a command sends can stop the node or lose an instruction.
/// </summary>
public sealed class NodeCommandHandler(PerceptionNode node) : ICommandHandler
{
    public async Task<Reply> HandleAsync(Command command, CancellationToken cancellation)
    {
        var reply = new Reply { RequestId = command.RequestId, Ok = true };
        if (command.BodyCase is not (Command.BodyOneofCase.AddInstruction or Command.BodyOneofCase.RemoveInstruction or Command.BodyOneofCase.Pause
            or Command.BodyOneofCase.Resume or Command.BodyOneofCase.SetSampling))
            node.RecordCommand(command); // the others are recorded where they take effect, between two frames
        try
        {
            switch (command.BodyCase)
            {
                case Command.BodyOneofCase.AddInstruction:
                    var instruction = Validate(command.AddInstruction);
                    reply.Instruction = await node.ApplyBetweenFrames(command, () => Add(instruction)).ConfigureAwait(false);
                    break;
                case Command.BodyOneofCase.RemoveInstruction:
                    string id = command.RemoveInstruction.Id;
                    if (!await node.ApplyBetweenFrames(command, () => node.Instructions.Remove(id)).ConfigureAwait(false))
                        throw new CommandException(ErrorCode.NotFound, $"no instruction '{id}'", "remove_instruction.id");
                    break;
                case Command.BodyOneofCase.ListInstructions:
                    reply.InstructionList = new InstructionList();
                    reply.InstructionList.Instructions.AddRange(node.Instructions.Snapshot.Select(InstructionSpecs.ToWire));
                    break;
                case Command.BodyOneofCase.Ask:
                    reply.Result = await AskAsync(command.Ask, command.RequestId).ConfigureAwait(false);
                    break;
                case Command.BodyOneofCase.SamPrompt:
                    reply.Result = await SamAsync(command.SamPrompt, command.RequestId).ConfigureAwait(false);
                    break;
                case Command.BodyOneofCase.Pause:
                    await node.ApplyBetweenFrames(command, () => node.Paused = true).ConfigureAwait(false);
                    reply.Status = node.BuildStatus();
                    break;
                case Command.BodyOneofCase.Resume:
                    await node.ApplyBetweenFrames(command, () => node.Paused = false).ConfigureAwait(false);
                    reply.Status = node.BuildStatus();
                    break;
                case Command.BodyOneofCase.SetSampling:
                    await SetSamplingAsync(command).ConfigureAwait(false);
                    reply.Status = node.BuildStatus();
                    break;
                case Command.BodyOneofCase.GetStatus:
                    reply.Status = node.BuildStatus();
                    break;
                case Command.BodyOneofCase.StartRecording:
                    var start = command.StartRecording;
                    if (string.IsNullOrWhiteSpace(start.Path)) throw new CommandException(ErrorCode.InvalidArgument, "start_recording needs a path", "start_recording.path");
                    if (start.ImageFormat is not ("" or "png" or "jpeg"))
                        throw new CommandException(ErrorCode.InvalidArgument, $"image format '{start.ImageFormat}': expected png or jpeg", "start_recording.image_format");
                    if (start.JpegQuality > 100) throw new CommandException(ErrorCode.InvalidArgument, $"jpeg_quality {start.JpegQuality}: expected 1 to 100", "start_recording.jpeg_quality");
                    reply.Recording = node.StartRecording(new RecordingSettings(start.Path, start.ImageFormat.Length == 0 ? "png" : start.ImageFormat,
                                                                                start.JpegQuality == 0 ? 90 : (int)start.JpegQuality));
                    break;
                case Command.BodyOneofCase.StopRecording:
                    reply.Recording = node.StopRecording();
                    break;
                default:
                    throw new CommandException(ErrorCode.InvalidArgument, "the command has no body (expected one of add_instruction, remove_instruction, list_instructions, ask, sam_prompt, pause, resume, set_sampling, start_recording, stop_recording, get_status)", "body");
            }
        }
        catch (CommandException e)
        {
            return Error(command.RequestId, e.Code, e.Message, e.Field);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return Error(command.RequestId, ErrorCode.InvalidArgument, e.Message, "");
        }
        return reply;
    }

    public static Reply Error(string requestId, ErrorCode code, string message, string field) =>
        new() { RequestId = requestId, Ok = false, Error = new Error { Code = code, Message = message, Field = field } };

    /// <summary>Checks a spec on the command thread (errors reply at once); the id is given when it is applied.</summary>
    private (InstructionSpec Spec, string Prefix) Validate(AddInstruction add)
    {
        var spec = add.Spec ?? throw new CommandException(ErrorCode.InvalidArgument, "add_instruction needs a spec", "add_instruction.spec");
        InstructionSpecs.ToStanding("check", spec, node.StreamIds);
        string prefix = spec.Mode == InstructionMode.Video ? "video" : spec.Kind switch
        {
            WireKind.Segment => "seg",
            WireKind.Ground => "loc",
            WireKind.Caption => "cap",
            WireKind.Ask => "ask",
            _ => "auto",
        };
        return (spec, prefix);
    }

    private Instruction Add((InstructionSpec Spec, string Prefix) checkedSpec)
    {
        var instruction = InstructionSpecs.ToStanding(node.Instructions.NextId(checkedSpec.Prefix), checkedSpec.Spec, node.StreamIds);
        node.Instructions.Add(instruction);
        return InstructionSpecs.ToWire(instruction);
    }

    private string StreamOf(string requested, string field)
    {
        if (requested.Length > 0)
        {
            if (!node.StreamIds.Contains(requested)) throw new CommandException(ErrorCode.NotFound, $"unknown stream '{requested}'", field);
            return requested;
        }
        if (node.StreamIds.Count == 1) return node.StreamIds.First();
        throw new CommandException(ErrorCode.InvalidArgument, $"the node has {node.StreamIds.Count} streams: say which ({string.Join(", ", node.StreamIds)})", field);
    }

    /// <summary>One-shot results are named after the command's request id, so a replay gives them the same ids.</summary>
    private static string OneShotId(string kind, string requestId) =>
        requestId.Length > 0 ? $"{kind}:{requestId}" : $"{kind}:{Guid.NewGuid():N}"[..16];

    private Task<InstructionResult> AskAsync(Ask ask, string commandRequestId)
    {
        var spec = ask.Spec ?? throw new CommandException(ErrorCode.InvalidArgument, "ask needs a spec", "ask.spec");
        var request = InstructionSpecs.ToRequest(spec, "ask.spec");
        var window = InstructionSpecs.ToWindow(spec, "ask.spec");
        string stream = StreamOf(ask.StreamId, "ask.stream_id");
        ulong? sequence = ask.HasSequence ? ask.Sequence : null;
        return node.OnModelThread(() =>
        {
            var started = Stopwatch.GetTimestamp();
            var (frame, error) = node.EncodedFrameFor(stream, sequence);
            if (frame is null) throw new CommandException(ErrorCode.NotFound, error!, ask.HasSequence ? "ask.sequence" : "ask.stream_id");
            string id = OneShotId("ask", commandRequestId);
            if (window is null)
                return node.Answer(frame.Stamp, frame.Width, frame.Height, id, request, started, piece => node.Engine.Run(frame, request, piece));
            var history = node.Pipe(stream)!.History;
            var frames = window.Pick(history, f => f.Stamp.CaptureTimeUnixNs, frame.Stamp.CaptureTimeUnixNs);
            return node.Answer(frame.Stamp, frame.Width, frame.Height, id, request, started, piece => node.Engine.RunVideo(frames, request, piece), frames);
        });
    }

    private Task<InstructionResult> SamAsync(Messages.V1.SamPrompt prompt, string commandRequestId)
    {
        string stream = StreamOf(prompt.StreamId, "sam_prompt.stream_id");
        var points = prompt.Points.Select(p => new SamPoint(p.X, p.Y, p.Positive)).ToList();
        SamBox? box = prompt.Box is { } b ? new SamBox(b.XMin, b.YMin, b.XMax, b.YMax) : null;
        var samPrompt = new Core.Inference.SamPrompt(points, box, prompt.Multimask);
        ulong? sequence = prompt.HasSequence ? prompt.Sequence : null;
        return node.OnModelThread(() =>
        {
            var started = Stopwatch.GetTimestamp();
            var (frame, error) = node.EncodedFrameFor(stream, sequence);
            if (frame is null) throw new CommandException(ErrorCode.NotFound, error!, prompt.HasSequence ? "sam_prompt.sequence" : "sam_prompt.stream_id");
            try
            {
                samPrompt.Validate(frame.Width, frame.Height);
            }
            catch (ArgumentException e)
            {
                throw new CommandException(ErrorCode.InvalidArgument, e.Message.Split(" (Parameter")[0], e.ParamName == "Box" ? "sam_prompt.box" : "sam_prompt.points");
            }
            var request = new InstructionRequest("SAM prompt", Core.Inference.InstructionKind.Segment);
            return node.Answer(frame.Stamp, frame.Width, frame.Height, OneShotId("sam", commandRequestId), request, started, _ => node.Engine.Segment(frame, samPrompt));
        });
    }

    private Task<bool> SetSamplingAsync(Command command)
    {
        var sampling = command.SetSampling;
        if (!(sampling.MaxFps >= 0 && sampling.MaxFps <= 1000)) throw new CommandException(ErrorCode.InvalidArgument, $"max_fps {sampling.MaxFps}: expected 0 (no limit) to 1000", "set_sampling.max_fps");
        if (sampling.EveryNFrames > 100_000) throw new CommandException(ErrorCode.InvalidArgument, $"every_n_frames {sampling.EveryNFrames}: at most 100000", "set_sampling.every_n_frames");
        var streams = sampling.StreamId.Length > 0 ? new[] { StreamOf(sampling.StreamId, "set_sampling.stream_id") } : node.StreamIds.ToArray();
        return node.ApplyBetweenFrames(command, () =>
        {
            foreach (var id in streams)
            {
                var pipe = node.Pipe(id) ?? throw new CommandException(ErrorCode.Unavailable, $"stream '{id}' has not started", "set_sampling.stream_id");
                pipe.Sampler.Configure(sampling.MaxFps, Math.Max(1, (int)sampling.EveryNFrames));
                pipe.OnDemand = sampling.OnDemand;
            }
            return true;
        });
    }
}
