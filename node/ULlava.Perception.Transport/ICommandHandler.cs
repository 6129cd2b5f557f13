using ULlava.Perception.Messages.V1;

namespace ULlava.Perception.Transport;

/// <summary>
/// What the command server hands each well-formed command to (the node's instruction scheduler). Called on the
/// server's socket thread; a reply may complete later (an ask waits for the model thread), so the socket is
/// never blocked. Implementations never throw for bad input: they answer with ok=false and a precise error.
/// </summary>
public interface ICommandHandler
{
    Task<Reply> HandleAsync(Command command, CancellationToken cancellation);
}
