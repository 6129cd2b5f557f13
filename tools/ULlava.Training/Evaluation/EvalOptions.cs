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

    /// <summary>The options of <see cref="Evaluator.Usage"/>; <paramref name="defaultModelDir"/> stands in for a missing --model (eval-default).</summary>
    public static EvalOptions Parse(IReadOnlyList<string> args, string? defaultModelDir = null)
    {
        var r = new OptionReader(args, new HashSet<string> { "model", "split", "samples", "size", "max-new-tokens", "device", "threads" });
        var d = new EvalOptions { ModelDir = r.String("model") ?? defaultModelDir ?? throw new ArgumentException("--model DIR is required") };
        var size = r.Size("size");
        return d with
        {
            Split = r.String("split") switch
            {
                null => d.Split,
                "test" => DataSplit.Test,
                "validation" => DataSplit.Validation,
                var other => throw new ArgumentException($"--split '{other}': expected test or validation"),
            },
            SamplesPerTask = r.Int("samples") ?? d.SamplesPerTask,
            Width = size?.Width ?? d.Width,
            Height = size?.Height ?? d.Height,
            MaxNewTokens = r.Int("max-new-tokens") ?? d.MaxNewTokens,
            Device = r.String("device") ?? d.Device,
            Threads = r.Int("threads") ?? d.Threads,
        };
    }
}
