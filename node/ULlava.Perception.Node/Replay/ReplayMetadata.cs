using Google.Protobuf;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Node.Commands;
using ULlava.Perception.Node.Instructions;

namespace ULlava.Perception.Node.Replay;

/// <summary>
/// The standing instructions a recording started with, as metadata (id → Instruction as protobuf JSON), so a
/// replay re-creates them with the same ids; instructions added later are recorded as the commands that added them.
/// </summary>
public static class ReplayMetadata
{
    public const string InstructionsName = "ullava.instructions";

    public static IReadOnlyDictionary<string, string> Instructions(IEnumerable<StandingInstruction> instructions) =>
        instructions.ToDictionary(i => i.Id, i => JsonFormatter.Default.Format(InstructionSpecs.ToWire(i)));

    public static List<StandingInstruction> ReadInstructions(IReadOnlyDictionary<string, string> metadata, IReadOnlyCollection<string> streams) =>
        metadata.Values.Select(json => JsonParser.Default.Parse<Instruction>(json))
            .OrderBy(i => i.AddedUnixNs)
            .Select(i => InstructionSpecs.ToStanding(i.Id, i.Spec, streams))
            .ToList();
}
