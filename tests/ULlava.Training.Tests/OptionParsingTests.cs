using System.Text.RegularExpressions;
using ULlava.Training.Evaluation;
using ULlava.Training.Scenes;
using ULlava.Training.Training;

namespace ULlava.Training.Tests;

public sealed partial class OptionParsingTests
{
    [Fact]
    public void TrainOptionsParse()
    {
        var o = TrainOptions.Parse(["--out", "runs/a", "--size", "tiny", "--steps", "50", "--batch", "3", "--lr", "1e-3", "--warmup", "5",
                                    "--min-lr-ratio", "0.2", "--weight-decay", "0", "--clip", "0.5", "--seed", "7", "--scene", "320x240",
                                    "--save-every", "10", "--log-every", "2", "--resume", "runs/a/checkpoint-10", "--device", "cuda:1", "--threads", "2"]);
        Assert.Equal(new TrainOptions
        {
            OutputDir = "runs/a", ModelSize = "tiny", Steps = 50, BatchSize = 3, LearningRate = 1e-3, WarmupSteps = 5, MinLearningRateRatio = 0.2,
            WeightDecay = 0, MaxGradNorm = 0.5, Seed = 7, SceneWidth = 320, SceneHeight = 240, CheckpointEvery = 10, LogEvery = 2,
            ResumeFrom = "runs/a/checkpoint-10", Device = "cuda:1", Threads = 2,
        }, o);
        Assert.Equal(new TrainOptions { OutputDir = "x" }, TrainOptions.Parse(["--out", "x"]));
        Assert.Throws<ArgumentException>(() => TrainOptions.Parse(["--steps", "5"]));
        Assert.Throws<ArgumentException>(() => TrainOptions.Parse(["--out", "x", "--steps", "many"]));
        Assert.Throws<ArgumentException>(() => TrainOptions.Parse(["--out", "x", "--bogus", "1"]));
        Assert.Throws<ArgumentException>(() => TrainOptions.Parse(["--out", "x", "--scene", "640"]));
    }

    [Fact]
    public void EvalOptionsParse()
    {
        var o = EvalOptions.Parse(["--model", "m", "--split", "validation", "--samples", "20", "--size", "320x240", "--max-new-tokens", "16", "--device", "cpu", "--threads", "2"]);
        Assert.Equal(new EvalOptions { ModelDir = "m", Split = DataSplit.Validation, SamplesPerTask = 20, Width = 320, Height = 240, MaxNewTokens = 16, Threads = 2 }, o);
        Assert.Equal("assets/models/default", EvalOptions.Parse([], "assets/models/default").ModelDir);
        Assert.Throws<ArgumentException>(() => EvalOptions.Parse([]));
        Assert.Throws<ArgumentException>(() => EvalOptions.Parse(["--model", "m", "--split", "train"]));
    }

    [Fact]
    public void EveryOptionInTheUsageTextsIsRead()
    {
        foreach (var (usage, parse) in new (string, Action<string[]>)[]
        {
            (Trainer.Usage, a => TrainOptions.Parse(a)),
            (Evaluator.Usage, a => EvalOptions.Parse(a)),
            (SamPretrainer.Usage, a => PretrainOptions.Parse(a, SamPretrainer.Defaults)),
            (VisionPretrainer.Usage, a => PretrainOptions.Parse(a, VisionPretrainer.Defaults)),
        })
        {
            var names = OptionName().Matches(usage).Select(m => m.Groups[1].Value).Distinct().ToList();
            Assert.NotEmpty(names);
            foreach (var name in names)
            {
                string value = name switch
                {
                    "scene" => "64x48",
                    "size" => usage == Evaluator.Usage ? "64x48" : "tiny",
                    "split" => "test",
                    "out" or "model" or "config" or "resume" or "device" => "x",
                    _ => "1",
                };
                var args = new List<string> { "--" + name, value };
                if (name != "out" && (usage == Trainer.Usage || usage == SamPretrainer.Usage || usage == VisionPretrainer.Usage)) args.AddRange(["--out", "o"]);
                if (name != "model" && usage == Evaluator.Usage) args.AddRange(["--model", "m"]);
                parse(args.ToArray());
            }
        }
    }

    [GeneratedRegex(@"--([a-z][a-z-]*)")]
    private static partial Regex OptionName();
}
