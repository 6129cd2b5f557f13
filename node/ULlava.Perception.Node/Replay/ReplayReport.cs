namespace ULlava.Perception.Node.Replay;

/// <summary>How a replay went: results compared with the recording, and the first difference if there was one.</summary>
public sealed record ReplayReport(int FramesReplayed, int CommandsReplayed, int ResultsCompared, int Differences, string? FirstDifference, IReadOnlyList<string> Problems)
{
    public bool Identical => Differences == 0 && ResultsCompared > 0;
}
