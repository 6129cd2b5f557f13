using ULlava.Perception.Core.Frames;
using ULlava.Perception.Messages.V1;

namespace ULlava.Perception.Node.Pipeline;

/// <summary>
/// A frame the model finished, as published: its results (one per instruction that was due, possibly none) and the
/// time from the model taking the frame to its last result. Read-only for everyone who receives it.
/// </summary>
public sealed record ProcessedFrame(Frame Frame, IReadOnlyList<InstructionResult> Results, double LatencyMs);
