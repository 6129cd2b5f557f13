using ULlava.Perception.Messages.V1;

namespace ULlava.Perception.Transport.Tests;

/// <summary>
/// A small real command handler for the tests: standing instructions in memory, pause/resume and status.
/// Counts its calls so tests can prove that bad input never reaches a handler.
/// </summary>
internal sealed class InstructionBook : ICommandHandler
{
    private readonly Lock gate = new();
    private readonly List<Instruction> instructions = [];
    private int nextId = 1;
    private bool paused;
    private int calls;

    public int Calls => Volatile.Read(ref calls);

    public Task<Reply> HandleAsync(Command command, CancellationToken cancellation)
    {
        Interlocked.Increment(ref calls);
        lock (gate)
        {
            var reply = new Reply { Ok = true };
            switch (command.BodyCase)
            {
                case Command.BodyOneofCase.AddInstruction:
                    if (string.IsNullOrWhiteSpace(command.AddInstruction.Spec?.Text))
                        return Task.FromResult(Fail(ErrorCode.InvalidArgument, "the instruction text is empty", "add_instruction.spec.text"));
                    var added = new Instruction { Id = $"i{nextId++}", Spec = command.AddInstruction.Spec };
                    instructions.Add(added);
                    reply.Instruction = added;
                    break;
                case Command.BodyOneofCase.RemoveInstruction:
                    if (instructions.RemoveAll(i => i.Id == command.RemoveInstruction.Id) == 0)
                        return Task.FromResult(Fail(ErrorCode.NotFound, $"no instruction {command.RemoveInstruction.Id}", "remove_instruction.id"));
                    break;
                case Command.BodyOneofCase.ListInstructions:
                    reply.InstructionList = new InstructionList { Instructions = { instructions } };
                    break;
                case Command.BodyOneofCase.Pause:
                    paused = true;
                    reply.Status = Status();
                    break;
                case Command.BodyOneofCase.Resume:
                    paused = false;
                    reply.Status = Status();
                    break;
                case Command.BodyOneofCase.GetStatus:
                    reply.Status = Status();
                    break;
                default:
                    return Task.FromResult(Fail(ErrorCode.Unavailable, $"{command.BodyCase} is not served by this handler", ""));
            }
            return Task.FromResult(reply);
        }
    }

    private NodeStatus Status() => new() { NodeId = "book", Paused = paused, StandingInstructions = (uint)instructions.Count };

    private static Reply Fail(ErrorCode code, string message, string field) =>
        new() { Ok = false, Error = new Error { Code = code, Message = message, Field = field } };
}
