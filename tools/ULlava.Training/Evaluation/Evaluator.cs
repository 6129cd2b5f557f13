using ULlava.Perception.Core.Frames;
using ULlava.Perception.Core.Inference;
using ULlava.Perception.Model.Inference;
using ULlava.Training.Samples;
using ULlava.Training.Scenes;

namespace ULlava.Training.Evaluation;

/// <summary>
/// Scores a checkpoint on a held-out split through the node's own inference API (ULlavaEngine: Encode, Run with the
/// segment/ground templates or free answers, RunVideo), so the numbers are what the node delivers.
/// </summary>
public static class Evaluator
{
    public const string Usage =
        """
        eval [options]                       score a checkpoint on held-out synthetic scenes
          --model DIR                        checkpoint folder (required; eval-default: the bundled default model)
          --split test|validation            (test)
          --samples N                        samples per task (200)
          --size WxH                         frame size (640x480)
          --max-new-tokens N                 (32)
          --device cpu|cuda|cuda:N           (cpu); --threads N
        prints mIoU, box Acc@0.5, exact match per question type and video direction accuracy against the targets,
        and per task the answer loss with each sample's own image against another sample's (about 1x: image ignored)
        """;

    /// <summary>Samples per task in the image-reliance probe (one batch each).</summary>
    private const int ProbeSamples = 8;

    private static readonly TaskKind[] Tasks =
        [TaskKind.ReferringSegmentation, TaskKind.Grounding, TaskKind.Caption, TaskKind.Count, TaskKind.Attribute, TaskKind.VideoDirection];

    public static EvalReport Run(EvalOptions options, Action<string>? log = null)
    {
        log ??= Console.WriteLine;
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SamplesPerTask, 1);
        using var engine = ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = options.ModelDir, Device = options.Device });
        if (options.Threads > 0) TorchSharp.torch.set_num_threads(options.Threads);
        var factory = new SampleFactory(options.Width, options.Height);

        var ious = new List<double>();
        int boxHits = 0, boxTotal = 0;
        var matches = new Dictionary<TaskKind, (int Hit, int Total)>();
        var counts = new Dictionary<TaskKind, int>();
        ulong index = 0;
        var probeSamples = new List<TrainingSample>();
        foreach (var task in Tasks)
        {
            for (int i = 0; i < options.SamplesPerTask; i++, index++)
            {
                var sample = factory.Create(SplitSeeds.Seed(options.Split, index), task);
                // The first few of each task also feed the image-reliance probe (an attribute seed without an
                // unambiguous question falls back to a caption: the probe keeps to one task).
                if (i < ProbeSamples && sample.Kind == task) probeSamples.Add(sample);
                counts[sample.Kind] = counts.GetValueOrDefault(sample.Kind) + 1;
                switch (sample.Kind)
                {
                    case TaskKind.ReferringSegmentation:
                    case TaskKind.Grounding:
                    {
                        var kind = sample.Kind == TaskKind.Grounding ? InstructionKind.Ground : InstructionKind.Segment;
                        var answer = RunImage(engine, sample, new InstructionRequest(sample.Question, kind, options.MaxNewTokens));
                        if (kind == InstructionKind.Segment)
                            ious.Add(answer.Masks.Count > 0 ? MaskIoU(answer.Masks[0].Pixels, sample.Mask!) : 0);
                        boxTotal++;
                        if (answer.Boxes.Count > 0)
                        {
                            var b = answer.Boxes[0];
                            if (new PixelBox(b.XMin, b.YMin, b.XMax, b.YMax).IoU(sample.Box!.Value) >= 0.5) boxHits++;
                        }
                        break;
                    }
                    case TaskKind.VideoDirection:
                    {
                        var frames = sample.Frames.Select((rgb, f) => engine.Encode(Frame(sample, rgb, (ulong)f))).ToList();
                        try
                        {
                            var answer = engine.RunVideo(frames, new InstructionRequest(sample.Question, InstructionKind.Ask, options.MaxNewTokens));
                            Score(matches, sample, answer.Text);
                        }
                        finally
                        {
                            foreach (var f in frames) f.Dispose();
                        }
                        break;
                    }
                    default:
                    {
                        var answer = RunImage(engine, sample, new InstructionRequest(sample.Question, InstructionKind.Ask, options.MaxNewTokens));
                        Score(matches, sample, answer.Text);
                        break;
                    }
                }
            }
            log($"{task}: {options.SamplesPerTask} samples done");
        }
        var exact = matches.ToDictionary(kv => kv.Key, kv => (double)kv.Value.Hit / kv.Value.Total);
        // Does the model read the image at all? Each task's first samples, own image against another's.
        var reliance = probeSamples.GroupBy(p => p.Kind).Where(g => g.Count() >= 2).Select(g => ImageRelianceProbe.Measure(engine, g.ToList())).ToList();
        var report = new EvalReport(
            ious.Count > 0 ? ious.Average() : 0,
            boxTotal > 0 ? (double)boxHits / boxTotal : 0,
            exact,
            exact.GetValueOrDefault(TaskKind.VideoDirection),
            counts)
        {
            ImageReliance = reliance,
        };
        log(report.Format());
        return report;
    }

    /// <summary>IoU of two same-sized 0/1 masks (1 when both are empty).</summary>
    public static double MaskIoU(byte[] predicted, byte[] target)
    {
        if (predicted.Length != target.Length) throw new ArgumentException("masks of different sizes");
        long inter = 0, union = 0;
        for (int i = 0; i < predicted.Length; i++)
        {
            bool p = predicted[i] != 0, t = target[i] != 0;
            if (p && t) inter++;
            if (p || t) union++;
        }
        return union == 0 ? 1 : (double)inter / union;
    }

    private static InstructionAnswer RunImage(ULlavaEngine engine, TrainingSample sample, InstructionRequest request)
    {
        using var frame = engine.Encode(Frame(sample, sample.Frames[0], 0), withMasks: request.Kind == InstructionKind.Segment);
        return engine.Run(frame, request);
    }

    private static Frame Frame(TrainingSample sample, byte[] rgb, ulong sequence) =>
        new(new FrameStamp("eval", sequence, 0), sample.Width, sample.Height, rgb);

    private static void Score(Dictionary<TaskKind, (int Hit, int Total)> matches, TrainingSample sample, string text)
    {
        var (hit, total) = matches.GetValueOrDefault(sample.Kind);
        matches[sample.Kind] = (hit + (string.Equals(text.Trim(), sample.Answer, StringComparison.Ordinal) ? 1 : 0), total + 1);
    }
}
