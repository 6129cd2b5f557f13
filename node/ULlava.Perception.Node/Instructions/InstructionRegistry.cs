using System.Collections.Immutable;

namespace ULlava.Perception.Node.Instructions;

/// <summary>
/// The standing instructions. Commands add and remove on their thread; the model thread reads a snapshot per
/// frame, so it never sees a half-changed list and never waits for a command.
/// </summary>
public sealed class InstructionRegistry
{
    public const int MaxInstructions = 64;

    private readonly object gate = new();
    private ImmutableList<StandingInstruction> items = ImmutableList<StandingInstruction>.Empty;
    private long nextId;

    public InstructionRegistry(IEnumerable<StandingInstruction>? initial = null)
    {
        foreach (var i in initial ?? Array.Empty<StandingInstruction>()) Add(i);
    }

    public IReadOnlyList<StandingInstruction> Snapshot => Volatile.Read(ref items);

    public int Count => Snapshot.Count;

    /// <summary>A new unique id with the given prefix (e.g. "seg" → "seg-3"), never one already in use.</summary>
    public string NextId(string prefix)
    {
        lock (gate)
        {
            string id;
            do id = $"{prefix}-{++nextId}";
            while (items.Any(i => i.Id == id));
            return id;
        }
    }

    public void Add(StandingInstruction instruction)
    {
        lock (gate)
        {
            if (items.Count >= MaxInstructions) throw new InvalidOperationException($"at most {MaxInstructions} standing instructions");
            if (items.Any(i => i.Id == instruction.Id)) throw new ArgumentException($"instruction id '{instruction.Id}' is already in use");
            Volatile.Write(ref items, items.Add(instruction));
        }
    }

    public bool Remove(string id)
    {
        lock (gate)
        {
            var found = items.FirstOrDefault(i => i.Id == id);
            if (found is null) return false;
            Volatile.Write(ref items, items.Remove(found));
            return true;
        }
    }
}
