using ULlava.Perception.Messages.V1;

namespace ULlava.Perception.Node.Commands;

/// <summary>A command that cannot be carried out: becomes an error reply with its code and the field at fault.</summary>
public sealed class CommandException(ErrorCode code, string message, string field = "") : Exception(message)
{
    public ErrorCode Code { get; } = code;
    public string Field { get; } = field;
}
