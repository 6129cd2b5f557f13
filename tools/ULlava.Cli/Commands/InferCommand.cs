using System.Text.Json;
using OpenCvSharp;
using ULlava.Perception.Capture;
using ULlava.Perception.Core.Frames;
using ULlava.Perception.Core.Inference;

namespace ULlava.Cli.Commands;

/// <summary>
/// `ullava infer --image FILE --prompt TEXT`: one image, one instruction. Prints one JSON object (answer text,
/// boxes in pixels, mask scores, timings) and writes mask_N.png (binary, frame size) and annotated.png.
/// </summary>
public static class InferCommand
{
    public const string Usage = "infer --image FILE --prompt TEXT [--kind auto|segment|ground|caption|ask] [--max-new-tokens N] [--model DIR] [--device D] [--dtype T] [--threads N] [--out DIR]";

    public static int Run(ArgReader args)
    {
        string imagePath = args.Required("--image");
        string prompt = args.Required("--prompt");
        var kind = args.Choice("--kind", "auto", "auto", "segment", "ground", "caption", "ask") switch
        {
            "segment" => InstructionKind.Segment,
            "ground" => InstructionKind.Ground,
            "caption" => InstructionKind.Caption,
            "ask" => InstructionKind.Ask,
            _ => InstructionKind.Auto,
        };
        int maxNewTokens = args.Int("--max-new-tokens", 64, 1, 4096);
        string outDir = args.Optional("--out") ?? ".";
        var model = ModelArgs.Read(args);
        args.EnsureAllUsed();

        using var bgr = Cv2.ImRead(imagePath, ImreadModes.Color);
        if (bgr.Empty()) throw new IOException($"{imagePath}: not an image OpenCV can read");
        var frame = VideoCaptureSource.ToFrame(bgr, new FrameStamp("image", 0, UnixClock.NowNs()));

        using var engine = model.Load();
        using var encoded = engine.Encode(frame, withMasks: kind == InstructionKind.Segment);
        var answer = engine.Run(encoded, new InstructionRequest(prompt, kind, maxNewTokens));

        Directory.CreateDirectory(outDir);
        using var annotated = bgr.Clone();
        var colours = new[] { new Scalar(0, 200, 255), new Scalar(255, 80, 200), new Scalar(80, 255, 80) };
        foreach (var mask in answer.Masks)
        {
            using var binary = Mat.FromPixelData(mask.Height, mask.Width, MatType.CV_8UC1, mask.Pixels);
            using var png = binary.Multiply(255).ToMat();
            Cv2.ImWrite(Path.Combine(outDir, $"mask_{mask.Index}.png"), png);
            using var colour = new Mat(annotated.Size(), MatType.CV_8UC3, colours[mask.Index % colours.Length]);
            using var blended = new Mat();
            Cv2.AddWeighted(annotated, 0.5, colour, 0.5, 0, blended);
            blended.CopyTo(annotated, binary);
        }
        foreach (var box in answer.Boxes)
            Cv2.Rectangle(annotated, new Point(box.XMin, box.YMin), new Point(box.XMax, box.YMax), colours[box.Index % colours.Length], 2);
        Cv2.ImWrite(Path.Combine(outDir, "annotated.png"), annotated);

        var report = new
        {
            text = answer.Text,
            kind = kind.ToString().ToLowerInvariant(),
            image = new { width = frame.Width, height = frame.Height },
            boxes = answer.Boxes.Select(b => new { index = b.Index, x_min = b.XMin, y_min = b.YMin, x_max = b.XMax, y_max = b.YMax, phrase = b.Phrase }),
            masks = answer.Masks.Select(m => new { index = m.Index, score = m.Score, area = m.Pixels.Count(p => p != 0), file = $"mask_{m.Index}.png", phrase = m.Phrase }),
            timings_ms = new { encode = answer.Timings.EncodeMs, prefill = answer.Timings.PrefillMs, decode = answer.Timings.DecodeMs, mask = answer.Timings.MaskMs },
        };
        Console.WriteLine(JsonSerializer.Serialize(report));
        return 0;
    }
}
