using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using OpenCvSharp;
using TorchSharp;
using ULlava.Perception.Capture;
using ULlava.Perception.Core.Frames;
using ULlava.Perception.Core.Inference;
using ULlava.Perception.Messages;
using InstructionResult = ULlava.Perception.Messages.V1.InstructionResult;
using ULlava.Perception.Model.Inference;
using ULlava.Perception.Node.Hosting;
using ULlava.Perception.Node.Instructions;
using ULlava.Perception.Node.Pipeline;
using ULlava.Perception.Node.Results;
using ULlava.Perception.Transport;
using ULlava.Perception.Model.Clip;
using ULlava.Perception.Model.Sam;
using ULlava.Training.Scenes;
using ULlava.Training.Training;
using static TorchSharp.torch;

namespace ULlava.Cli.Commands;

/// <summary>
/// `ullava bench`: times each stage and the whole node on the bundled sample video (or --video), prints a table
/// and writes a JSON report. Every ratio compares two measurements taken in the same run.
/// </summary>
public static class BenchCommand
{
    public const string Usage = "bench [--quick] [--json FILE] [--video FILE | --synthetic] [--frames N] [--rounds N] [--model DIR | --random-weights SIZE] [--unfused] [--eager-norms] [--separate-residuals] [--sam-attention eager|augmented] [--no-system-cache] [--two-pass-prefill] [--serial-sam] [--device D] [--dtype T] [--threads N]";

    private const string Segment = "Please segment and locate the red circle in this image.";
    private static readonly InstructionRequest SecondSegment = new("Please segment and locate the blue square in this image.", InstructionKind.Segment);

    public static int Run(ArgReader args)
    {
        bool quick = args.Has("--quick");
        string? jsonPath = args.Optional("--json");
        // --synthetic: frames rendered by the scene generator, so no video decoder is needed (a GPU machine without
        // OpenCV); the capture and whole-node stages, which need a video source, are left out.
        bool synthetic = args.Has("--synthetic");
        string video = args.Optional("--video") ?? BundledAssets.SampleVideo;
        int frames = args.Int("--frames", quick ? 6 : 30, 2, 10_000);
        // Bare model and whole node alternate this many times: on shared cores the machine's speed drifts by ±15 %
        // between passes seconds apart, as much as the overhead being measured (BENCHMARKS.md, 2026-12-04).
        int rounds = args.Int("--rounds", quick ? 1 : 3, 1, 100);
        string? randomSize = args.Optional("--random-weights");
        var model = ModelArgs.Read(args);
        // Each optimisation's baseline, to time it in the same sitting:
        var options = model.Options() with
        {
            // LLaMA's q/k/v and gate/up as separate GEMMs (and q, k rotated apart).
            FuseProjections = !args.Has("--unfused"),
            // LLaMA's RMSNorm as Hugging Face's eight elementwise kernels (on CUDA; the CPU always uses them).
            FuseNorms = !args.Has("--eager-norms"),
            // LLaMA's residual adds as kernels of their own instead of inside the projections' GEMMs.
            ResidualsInGemms = !args.Has("--separate-residuals"),
            // SAM's image-encoder attention: Meta's matmul + relative bias + softmax + matmul is the baseline.
            SamAttention = args.Optional("--sam-attention") switch
            {
                null or "augmented" => SamAttentionKernel.AugmentedScaledDotProduct,
                "eager" => SamAttentionKernel.Eager,
                var other => throw new UsageException($"--sam-attention: '{other}' is not eager or augmented"),
            },
            // Every frame prefills its whole prompt.
            CacheSystemPrompt = !args.Has("--no-system-cache"),
            // A frame's first instruction prefills its image, then its text, in two passes.
            OnePassFirstInstruction = !args.Has("--two-pass-prefill"),
            OverlapSam = !args.Has("--serial-sam"),
        };
        args.EnsureAllUsed();

        var sample = synthetic ? RenderFrames(frames) : ReadFrames(video, frames);
        using var engine = randomSize is null ? ULlavaEngine.Load(options) : LoadRandom(options, randomSize);
        // CUDA runs asynchronously: every timed action ends with a synchronize so the clock reads finished work.
        Action sync = engine.Model.Device.type == DeviceType.CUDA ? () => torch.cuda.synchronize() : () => { };
        var report = new Dictionary<string, object>
        {
            ["machine"] = Machine(model.Device, model.DType),
            ["model"] = engine.Description,
            ["fused_projections"] = options.FuseProjections,
            ["fused_norms"] = options.FuseNorms && engine.Model.Device.type == DeviceType.CUDA,
            ["residuals_in_gemms"] = options.ResidualsInGemms,
            ["sam_attention"] = options.SamAttention.ToString(),
            ["system_prompt_cached"] = options.CacheSystemPrompt,
            ["one_pass_first_instruction"] = options.OnePassFirstInstruction,
            ["sam_overlapped"] = engine.OverlapsSam,
            ["video"] = synthetic ? $"synthetic scenes {sample[0].Width}x{sample[0].Height}, {sample.Count} frames" : $"{Path.GetFileName(video)} {sample[0].Width}x{sample[0].Height}, {sample.Count} frames",
            ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
        };
        var stages = new Dictionary<string, double>();
        int repeats = quick ? 3 : 10;
        double Time(Action action) => Median(repeats, () => { action(); sync(); });

        // Warm-up: first calls pay for lazy initialisation in libtorch.
        using (var warm = engine.Encode(sample[0])) engine.Run(warm, new InstructionRequest(Segment, InstructionKind.Segment));

        if (!synthetic) stages["capture_decode_ms"] = Median(repeats, () => ReadFrames(video, 1));
        stages["preprocess_ms"] = Median(repeats, () =>
        {
            using var scope = NewDisposeScope();
            engine.Processor.Preprocess(sample[0].Rgb, sample[0].Width, sample[0].Height);
        });
        stages["clip_ms"] = Time(() => engine.Encode(sample[0]).Dispose());
        // SAM's input as the engine makes it (on a GPU the bytes go up first and are resized there), then its encoder alone.
        Tensor SamInput()
        {
            using var scope = NewDisposeScope();
            var rgb = tensor(sample[0].Rgb, new long[] { sample[0].Height, sample[0].Width, 3 }, ScalarType.Byte);
            if (engine.Model.Device.type != DeviceType.CPU) rgb = rgb.to(engine.Model.Device);
            return engine.Model.Sam.Preprocess(rgb).Input.to(engine.Model.DType, engine.Model.Device).MoveToOuterDisposeScope();
        }
        stages["sam_preprocess_ms"] = Time(() =>
        {
            using var scope = NewDisposeScope();
            SamInput();
        });
        using (var samInput = SamInput())
        {
            stages["sam_encoder_ms"] = Time(() =>
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                engine.Model.Sam.ImageEncoder.forward(samInput);
            });
        }

        // First and second instruction on one frame: the second reuses CLIP features, the prefix KV cache and SAM's embedding.
        var first = new List<double>();
        var second = new List<double>();
        var prefill = new List<double>();
        var prefillFirst = new List<double>();
        var maskMs = new List<double>();
        var bothBatched = new List<double>();
        int promptTokens = 0;
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            using var frame = engine.Encode(sample[i % sample.Count], withMasks: true);
            var a = engine.Run(frame, new InstructionRequest(Segment, InstructionKind.Segment));
            first.Add(sw.Elapsed.TotalMilliseconds);
            prefillFirst.Add(a.Timings.PrefillMs);
            promptTokens = a.Timings.PromptTokens;
            sw.Restart();
            var b = engine.Run(frame, SecondSegment);
            second.Add(sw.Elapsed.TotalMilliseconds);
            prefill.Add(b.Timings.PrefillMs);
            maskMs.Add(b.Timings.MaskMs);
            // The same two on a fresh copy of the frame as one batch, as the node runs a frame's segmentation instructions.
            sw.Restart();
            using var again = engine.Encode(sample[i % sample.Count], withMasks: true);
            engine.RunBatch(again, new[] { new InstructionRequest(Segment, InstructionKind.Segment), SecondSegment });
            sync();
            bothBatched.Add(sw.Elapsed.TotalMilliseconds);
        }
        stages["first_instruction_ms"] = Median(first);
        stages["second_instruction_ms"] = Median(second);
        // A frame's first prefill: from the image on when the system prompt's KV is cached (the default), else the whole prompt.
        stages["prefill_first_instruction_ms"] = Median(prefillFirst);
        stages["prefill_suffix_ms"] = Median(prefill);
        stages["mask_decode_ms"] = Median(maskMs);
        stages["two_instructions_batched_ms"] = Median(bothBatched);

        int tokens = quick ? 8 : 32;
        var perToken = new List<double>();
        for (int i = 0; i < Math.Max(2, repeats / 3); i++)
        {
            using var frame = engine.Encode(sample[0]);
            var answer = engine.Run(frame, new InstructionRequest("What is in the image?", InstructionKind.Ask, tokens));
            if (answer.Timings.GeneratedTokens > 1) perToken.Add(answer.Timings.DecodeMs / (answer.Timings.GeneratedTokens - 1));
        }
        stages["decode_ms_per_token"] = Median(perToken);

        // Like for like with a generating reference: a frame answered by 16 generated tokens, not the teacher-forced template.
        stages["frame_with_16_token_answer_ms"] = Time(() =>
        {
            using var frame = engine.Encode(sample[0]);
            engine.Run(frame, new InstructionRequest("What is in the image?", InstructionKind.Ask, 16));
        });

        using (var frame = engine.Encode(sample[0]))
        {
            var answer = engine.Run(frame, new InstructionRequest(Segment, InstructionKind.Segment));
            stages["result_build_ms"] = Median(repeats, () => ResultBuilder.Build(frame.Stamp, frame.Width, frame.Height, "b", new InstructionRequest(Segment, InstructionKind.Segment), answer, 0));
            var result = ResultBuilder.Build(frame.Stamp, frame.Width, frame.Height, "b", new InstructionRequest(Segment, InstructionKind.Segment), answer, 0);
            using var publisher = new ResultPublisher("tcp://127.0.0.1:0");
            stages["publish_ms"] = Median(repeats, () => publisher.Publish(Topics.Results("bench"), result));
        }

        // Bare model time on the frames against the whole node (capture, channel, scheduling, results, publishing).
        (double FrameMs, double GcPauseMs) BarePass()
        {
            var pause = GC.GetTotalPauseDuration();
            var watch = Stopwatch.StartNew();
            foreach (var f in sample)
            {
                using var frame = engine.Encode(f, withMasks: true); // as the node does for a standing segmentation
                engine.Run(frame, new InstructionRequest(Segment, InstructionKind.Segment));
            }
            sync();
            return (watch.Elapsed.TotalMilliseconds / sample.Count, (GC.GetTotalPauseDuration() - pause).TotalMilliseconds / sample.Count);
        }
        report["stages_ms"] = stages;
        report["prompt_tokens"] = promptTokens;
        if (synthetic)
        {
            var (bareFrameMs, barePauseMs) = BarePass();
            report["bare_gc_pause_ms_per_frame"] = barePauseMs;
            report["bare_frame_ms"] = bareFrameMs;
            report["bare_model_fps"] = 1000 / bareFrameMs;
            // No video source for a node: the standing instruction's rate is the model's alone.
            report["standing_seg_fps"] = report["bare_model_fps"];
            report["standing_seg_fps_scope"] = "model only (--synthetic: no capture, no node)";
        }
        else
        {
            // bare, node, bare, node, ..., bare: each node pass is compared with the mean of the bare passes on either side
            // of it, so a drift of the machine's speed cancels to first order; the figures are the rounds' medians.
            var bares = new List<(double FrameMs, double GcPauseMs)> { BarePass() };
            var nodes = new List<(long Frames, double TotalMs, double FrameMs, double FirstResultMs, double BusyMs, double GcPauseMs)>();
            var ratios = new List<double>();
            for (int r = 0; r < rounds; r++)
            {
                var nodePause = GC.GetTotalPauseDuration();
                var (nodeFrames, nodeMs, nodeFrameMs, firstResultMs, busyMs) = RunNode(engine, video, sample.Count);
                nodes.Add((nodeFrames, nodeMs, nodeFrameMs, firstResultMs, busyMs, (GC.GetTotalPauseDuration() - nodePause).TotalMilliseconds / nodeFrames));
                bares.Add(BarePass());
                ratios.Add(nodeFrameMs / ((bares[^2].FrameMs + bares[^1].FrameMs) / 2));
            }
            double bareFrameMs = Median(bares.Select(b => b.FrameMs));
            report["bare_gc_pause_ms_per_frame"] = Median(bares.Select(b => b.GcPauseMs));
            report["bare_model_fps"] = 1000 / bareFrameMs;
            report["node_gc_pause_ms_per_frame"] = Median(nodes.Select(n => n.GcPauseMs));
            // Where the overhead is: the model thread's own time per frame (engine, results, publishing) against the
            // steady period between results (the rest is the model thread waiting, or sharing the cores with capture).
            report["bare_frame_ms"] = bareFrameMs;
            report["node_frame_ms"] = Median(nodes.Select(n => n.FrameMs));
            report["node_model_thread_frame_ms"] = Median(nodes.Select(n => n.BusyMs));
            report["standing_seg_fps"] = Median(nodes.Select(n => n.Frames / (n.TotalMs / 1000)));
            report["node_rounds"] = rounds;
            report["node_overhead_ratios"] = ratios;
            report["node_overhead_ratio"] = Median(ratios);
            report["node_startup_ms"] = Median(nodes.Select(n => n.FirstResultMs)) - bareFrameMs;
            report["node_overhead_ratio_with_startup"] = Median(nodes.Select(n => n.TotalMs / n.Frames)) / bareFrameMs;
        }
        report["second_instruction_ratio"] = stages["second_instruction_ms"] / stages["first_instruction_ms"];
        // What a second instruction adds when it shares the first one's batch (RunBatch), against the first alone.
        report["second_instruction_batched_ratio"] = (stages["two_instructions_batched_ms"] - stages["first_instruction_ms"]) / stages["first_instruction_ms"];
        report["decode_ms_per_token"] = stages["decode_ms_per_token"];
        report["peak_working_set_mib"] = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024);

        foreach (var (k, v) in stages) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{k,-26} {v,10:F2}"));
        foreach (var k in new[] { "standing_seg_fps", "bare_model_fps", "bare_frame_ms", "node_frame_ms", "node_model_thread_frame_ms", "bare_gc_pause_ms_per_frame", "node_gc_pause_ms_per_frame", "node_overhead_ratio", "node_overhead_ratio_with_startup", "node_startup_ms", "second_instruction_ratio", "second_instruction_batched_ratio", "peak_working_set_mib" })
            if (report.TryGetValue(k, out var v)) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{k,-26} {(double)v,10:F3}"));
        string json = JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true });
        if (jsonPath is not null)
        {
            File.WriteAllText(jsonPath, json);
            Console.WriteLine($"report: {jsonPath}");
        }
        return 0;
    }

    /// <summary>The whole node on the video: frames with results, wall time, steady-state ms per frame, ms to the first result.</summary>
    private static (long Frames, double TotalMs, double FrameMs, double FirstResultMs, double BusyMs) RunNode(ULlavaEngine engine, string video, int frames)
    {
        var options = new NodeOptions
        {
            Sources = new[] { new SourceSpec("bench", video) },
            Instructions = new[] { new StandingInstruction("seg-1", new InstructionRequest(Segment, InstructionKind.Segment)) },
            PublishEndpoint = "tcp://127.0.0.1:0",
            CommandEndpoint = null,
            MaxFrames = frames,
            PrintFrames = false,
        };
        var node = new PerceptionNode(options, engine, spec => new VideoCaptureSource(spec.StreamId, spec.Uri), TextWriter.Null);
        // Steady state: from the first frame's result to the last's, per frame (startup and shutdown are reported apart).
        var resultTimes = new List<double>();
        var whole = Stopwatch.StartNew();
        node.Published += (topic, message) =>
        {
            if (message is InstructionResult) resultTimes.Add(whole.Elapsed.TotalMilliseconds);
        };
        var busy = new List<double>();
        node.FrameProcessed += processed => busy.Add(processed.LatencyMs);
        node.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
        double nodeMs = whole.Elapsed.TotalMilliseconds;
        double frameMs = resultTimes.Count > 1 ? (resultTimes[^1] - resultTimes[0]) / (resultTimes.Count - 1) : double.NaN;
        // The first frame pays for startup; the rest is the steady state the period above measures.
        double busyMs = busy.Count > 1 ? busy.Skip(1).Average() : double.NaN;
        return (node.FramesProcessed, nodeMs, frameMs, resultTimes.Count > 0 ? resultTimes[0] : double.NaN, busyMs);
    }

    private static ULlavaEngine LoadRandom(ULlavaEngineOptions options, string size)
    {
        var config = ModelSizes.ByName(size);
        var processor = new ClipImageProcessor(ModelSizes.Processor(config));
        return ULlavaEngine.CreateWithRandomWeights(options, config, processor, size);
    }

    /// <summary>Frames of the training scene generator (640×480): a bench that needs no video decoder.</summary>
    private static List<Frame> RenderFrames(int count)
    {
        var generator = new SceneGenerator(640, 480);
        return Enumerable.Range(0, count).Select(i =>
        {
            var scene = generator.Generate(SplitSeeds.Seed(DataSplit.Test, (ulong)i));
            return new Frame(new FrameStamp("bench", (ulong)i, UnixClock.NowNs()), scene.Width, scene.Height, scene.Rgb);
        }).ToList();
    }

    private static List<Frame> ReadFrames(string path, int count)
    {
        using var capture = new VideoCapture(path);
        if (!capture.IsOpened()) throw new IOException($"{path}: not a video OpenCV can decode");
        var frames = new List<Frame>();
        using var bgr = new Mat();
        while (frames.Count < count && capture.Read(bgr) && !bgr.Empty())
            frames.Add(VideoCaptureSource.ToFrame(bgr, new FrameStamp("bench", (ulong)frames.Count, UnixClock.NowNs())));
        if (frames.Count == 0) throw new IOException($"{path}: no frames");
        return frames;
    }

    private static double Median(int repeats, Action action)
    {
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        return Median(times);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[sorted.Count / 2];
    }

    private static Dictionary<string, object> Machine(string device, string dtype)
    {
        string cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
            : "unknown";
        return new Dictionary<string, object>
        {
            ["cpu"] = cpu,
            ["cores"] = Environment.ProcessorCount,
            ["torch_threads"] = torch.get_num_threads(),
            ["os"] = RuntimeInformation.OSDescription,
            ["device"] = device,
            ["dtype"] = dtype,
            ["cuda"] = torch.cuda.is_available(),
        };
    }
}
