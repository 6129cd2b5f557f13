using ULlava.Training.Evaluation;
using ULlava.Training.Training;

namespace ULlava.Cli.Commands;

/// <summary>`ullava train`, `ullava eval` and `ullava eval-default` (tools/ULlava.Training; its README has the recipe).</summary>
public static class TrainingCommands
{
    public const string TrainUsage = "train --out DIR [--size default|tiny] [--steps N] [--batch N] [--lr F] [--resume DIR] ...  (./run.sh train --help)";
    public const string EvalUsage = "eval --model DIR [--split test|validation] [--samples N] ...  (./run.sh eval --help)";
    public const string EvalDefaultUsage = "eval-default [--samples N] ...   the bundled default model on the held-out test split";

    public const string TrainVisionUsage = "train-vision --out DIR [--size default|tiny] [--steps N] [--batch N] ...  (./run.sh train-vision --help)";

    public static int TrainVision(ArgReader args) => Pretrain(args, VisionPretrainer.Usage, VisionPretrainer.Defaults, VisionPretrainer.Run);

    public const string TrainSamUsage = "train-sam --out DIR [--size default|tiny] [--steps N] [--batch N] ...  (./run.sh train-sam --help)";

    public static int TrainSam(ArgReader args) => Pretrain(args, SamPretrainer.Usage, SamPretrainer.Defaults, SamPretrainer.Run);

    // Stages 0 and 1 take the same options (PretrainOptions) with their own defaults.
    private static int Pretrain(ArgReader args, string usage, PretrainOptions defaults, Func<PretrainOptions, Action<string>?, IReadOnlyList<double>> run)
    {
        var rest = args.Rest();
        if (rest.Contains("--help"))
        {
            Console.WriteLine(usage);
            return 0;
        }
        PretrainOptions options;
        try
        {
            options = PretrainOptions.Parse(rest, defaults);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        run(options, Console.WriteLine);
        return 0;
    }

    public static int Train(ArgReader args)
    {
        var rest = args.Rest();
        if (rest.Contains("--help"))
        {
            Console.WriteLine(Trainer.Usage);
            return 0;
        }
        TrainOptions options;
        try
        {
            options = TrainOptions.Parse(rest);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        Trainer.Run(options, Console.WriteLine);
        return 0;
    }

    public static int Eval(ArgReader args) => RunEval(args, defaultModel: null);

    public static int EvalDefault(ArgReader args) => RunEval(args, BundledAssets.DefaultModel);

    private static int RunEval(ArgReader args, string? defaultModel)
    {
        var rest = args.Rest();
        if (rest.Contains("--help"))
        {
            Console.WriteLine(Evaluator.Usage);
            return 0;
        }
        EvalOptions options;
        try
        {
            options = EvalOptions.Parse(rest, defaultModel);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        var report = Evaluator.Run(options, Console.WriteLine); // the log ends with the report table
        return report.MeetsTargets ? 0 : 1;
    }
}
