namespace ULlava.Perception.Model.Llama;

/// <summary>What a streaming callback sees after each step: the token chosen for each batch row.</summary>
/// <param name="Step">0-based index of the new token.</param>
/// <param name="TokenIds">One id per batch row; rows that already finished get the pad id.</param>
/// <param name="Finished">Per row: this token or an earlier one ended the sequence.</param>
public sealed record GenerationStep(int Step, long[] TokenIds, bool[] Finished);
