namespace ULlava.Perception.Recording.Mcap;

/// <summary>Something the reader found wrong and worked around; Offset is the file offset of the record concerned.</summary>
public sealed record McapProblem(McapProblemKind Kind, long Offset, string Detail, long SkippedBytes = 0)
{
    public override string ToString() => $"{Kind} at {Offset}: {Detail}" + (SkippedBytes > 0 ? $" ({SkippedBytes} bytes skipped)" : "");
}
