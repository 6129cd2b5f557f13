namespace ULlava.Perception.Node.Replay;

/// <summary>
/// How a replay went: results compared with the recording, and the first difference if there was one. A damaged
/// recording (<see cref="Problems"/>: a corrupted or cut chunk) replays what is readable; recorded results whose
/// frame was in an unreadable part are counted in <see cref="ResultsWithoutFrame"/>, not as differences.
/// </summary>
public sealed record ReplayReport(int FramesReplayed, int CommandsReplayed, int ResultsCompared, int Differences, string? FirstDifference, IReadOnlyList<string> Problems,
                                  int ResultsWithoutFrame = 0)
{
    public bool Identical => Differences == 0 && ResultsCompared > 0;
}
