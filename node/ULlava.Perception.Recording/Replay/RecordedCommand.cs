using ULlava.Perception.Messages.V1;

namespace ULlava.Perception.Recording.Replay;

/// <summary>A command as received. <see cref="Command"/> is null when the bytes were not a valid Command (recorded anyway).</summary>
public sealed record RecordedCommand(long LogTimeUnixNs, byte[] Payload, Command? Command) : RecordedEvent(LogTimeUnixNs);
