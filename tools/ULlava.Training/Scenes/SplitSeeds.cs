namespace ULlava.Training.Scenes;

/// <summary>
/// Sample seeds by split: disjoint ranges, so a validation or test scene is never a training scene. Index i of a
/// split is seed <c>start + i</c>.
/// </summary>
public static class SplitSeeds
{
    public const ulong TrainStart = 0, TrainCount = 1_000_000_000;
    public const ulong ValidationStart = 1_000_000_000, ValidationCount = 1_000_000;
    public const ulong TestStart = 2_000_000_000, TestCount = 1_000_000;

    public static (ulong Start, ulong Count) Range(DataSplit split) => split switch
    {
        DataSplit.Train => (TrainStart, TrainCount),
        DataSplit.Validation => (ValidationStart, ValidationCount),
        DataSplit.Test => (TestStart, TestCount),
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, null),
    };

    public static ulong Seed(DataSplit split, ulong index)
    {
        var (start, count) = Range(split);
        if (index >= count) throw new ArgumentOutOfRangeException(nameof(index), index, $"the {split} split has {count} samples");
        return start + index;
    }

    /// <summary>The split a seed belongs to, or null for a seed outside every range.</summary>
    public static DataSplit? SplitOf(ulong seed)
    {
        foreach (var split in Enum.GetValues<DataSplit>())
        {
            var (start, count) = Range(split);
            if (seed >= start && seed - start < count) return split;
        }
        return null;
    }
}
