using ULlava.Training.Scenes;

namespace ULlava.Training.Evaluation;

/// <summary>What <see cref="Evaluator.Run"/> measures.</summary>
public sealed record EvalOptions
{
    /// <summary>The checkpoint folder (loaded with ULlavaEngine.Load, as the node loads it).</summary>
    public required string ModelDir { get; init; }

    public DataSplit Split { get; init; } = DataSplit.Test;

    /// <summary>Samples per task (the same first indices of the split every time).</summary>
    public int SamplesPerTask { get; init; } = 200;

    /// <summary>Frame size, the node's 640×480 by default.</summary>
    public int Width { get; init; } = 640;
    public int Height { get; init; } = 480;

    public int MaxNewTokens { get; init; } = 32;
    public string Device { get; init; } = "cpu";
    public int Threads { get; init; }
}
