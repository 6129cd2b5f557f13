using System.Globalization;
using System.Text.Json;
using OpenCvSharp;
using TorchSharp;
using TorchSharp.PyBridge;
using ULlava.Perception.Model.Clip;
using ULlava.Perception.Model.Heads;
using ULlava.Perception.Model.Inference;
using ULlava.Perception.Model.Llama;
using ULlava.Perception.Model.Sam;
using ULlava.Perception.Model.Tokenization;
using static TorchSharp.torch;

namespace ULlava.Cli.Commands;

/// <summary>
/// `ullava golden-check DIR`: recomputes every tensor of a reference fixture folder (ckpt/, golden.json,
/// golden_image/golden_video.safetensors, scene.png) with our port and prints `name max_abs max_rel ok` per tensor,
/// at the tolerances of the fixture README. Shapes and sizes come from the folder, so any fixture of this layout works.
/// </summary>
public static class GoldenCheckCommand
{
    public const string Usage = "golden-check DIR   (a fixture folder: ckpt/, golden.json, golden_*.safetensors, scene.png)";

    private const double Features = 1e-4, Logits = 1e-3;

    public static int Run(ArgReader args)
    {
        string dir = args.Positional("DIR");
        args.EnsureAllUsed();
        var rows = Check(dir);
        foreach (var r in rows) Console.WriteLine(r);
        int failed = rows.Count(r => !r.Ok);
        Console.WriteLine($"{rows.Count - failed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }

    public sealed record Row(string Name, double MaxAbs, double MaxRel, bool Ok, string Note = "")
    {
        public override string ToString() =>
            string.Create(CultureInfo.InvariantCulture, $"{Name,-32} {MaxAbs,12:E3} {MaxRel,12:E3} {(Ok ? "ok" : "FAIL")}{(Note.Length > 0 ? "  " + Note : "")}");
    }

    public static List<Row> Check(string dir)
    {
        foreach (var f in new[] { "golden.json", "golden_image.safetensors", "golden_video.safetensors", "scene.png", "ckpt/config.json" })
            if (!File.Exists(Path.Combine(dir, f))) throw new FileNotFoundException($"{dir}: not a fixture folder, {f} is missing");
        using var engine = ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = Path.Combine(dir, "ckpt") });
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "golden.json")));
        var golden = Safetensors.LoadStateDict(Path.Combine(dir, "golden_image.safetensors"));
        foreach (var (k, v) in Safetensors.LoadStateDict(Path.Combine(dir, "golden_video.safetensors"))) golden[k] = v;
        var rows = new List<Row>();
        using var noGrad = no_grad();
        try
        {
            new Checker(engine, json.RootElement, golden, dir, rows).All();
        }
        finally
        {
            foreach (var t in golden.Values) t.Dispose();
        }
        return rows;
    }

    private sealed class Checker(ULlavaEngine engine, JsonElement json, Dictionary<string, Tensor> golden, string dir, List<Row> rows)
    {
        private int ImagePatch => engine.Model.Config.LlmConfig.MmTokenIds.ImagePatch;
        private int VideoPatch => engine.Model.Config.LlmConfig.MmTokenIds.VideoPatch;

        public void All()
        {
            Tokenizer();
            using var scope = NewDisposeScope();
            var projected = Clip();
            var segHidden = Seg(projected);
            Sam(segHidden);
            Caption(projected);
            Video();
        }

        private void Tokenizer()
        {
            var texts = json.GetProperty("tokenizer").GetProperty("texts");
            foreach (var reference in json.GetProperty("tokenizer").GetProperty("reference_ids").EnumerateObject())
            {
                var expected = reference.Value.EnumerateArray().Select(e => e.GetInt32()).ToArray();
                Ids($"tokenizer.{reference.Name}", expected, engine.Tokenizer.Encode(texts.GetProperty(reference.Name).GetString()!));
            }
        }

        private Tensor Clip()
        {
            using var bgr = Cv2.ImRead(Path.Combine(dir, "scene.png"), ImreadModes.Color);
            using var rgbMat = bgr.CvtColor(ColorConversionCodes.BGR2RGB);
            rgbMat.GetArray(out Vec3b[] pixels);
            var bytes = new byte[pixels.Length * 3];
            for (int i = 0; i < pixels.Length; i++) (bytes[3 * i], bytes[3 * i + 1], bytes[3 * i + 2]) = (pixels[i].Item0, pixels[i].Item1, pixels[i].Item2);
            Scene = tensor(bytes, new long[] { rgbMat.Rows, rgbMat.Cols, 3 }, ScalarType.Byte);

            Close("clip_padded_image_u8", ClipImageProcessor.ExpandToSquare(Scene), 0, absolute: true);
            Pixels("clip_pixel_values", engine.Processor.Preprocess(Scene));
            var features = engine.Model.VisionTower.forward(G("clip_pixel_values"));
            Close("clip_hidden_state_sel", features, Features);
            Close("clip_hidden_state_last", engine.Model.VisionTower.HiddenState(G("clip_pixel_values"), -1), Features);
            var projected = engine.Model.Projector.forward(features);
            Close("image_features_projected", projected, Features);
            return projected;
        }

        private Tensor Scene { get; set; } = null!;

        private Tensor Seg(Tensor projected)
        {
            var prompts = json.GetProperty("prompts");
            string message = ConversationTemplate.ExpandRepeats(prompts.GetProperty("seg_question").GetString()!);
            var promptIds = engine.Tokenizer.Encode(engine.Template.Prompt(message));
            Ids("seg_prompt_ids", LongIds("seg_prompt_ids"), promptIds);
            var embeds = engine.Splice(promptIds, projected, ImagePatch);
            using (var output = engine.Model.Llm.forward(LlamaInput.FromEmbeddings(embeds)))
            {
                Close("seg_prompt_logits", output.Logits!, Logits);
                Close("seg_prompt_last_hidden", output.LastHiddenState, Features);
            }
            Greedy("seg", embeds, (int)G("seg_greedy_ids").shape[1]);

            var fullIds = engine.Tokenizer.Encode(engine.Template.PromptWithAnswer(message, prompts.GetProperty("seg_answer").GetString()!));
            Ids("seg_full_ids", LongIds("seg_full_ids"), fullIds);
            using var full = engine.Model.Llm.forward(LlamaInput.FromEmbeddings(engine.Splice(fullIds, projected, ImagePatch)));
            Close("seg_full_logits", full.Logits!, Logits);
            Close("seg_full_last_hidden", full.LastHiddenState, Features);

            // The hidden state of the position before each [SEG]/[LOC] feeds the heads.
            var segPositions = Enumerable.Range(1, fullIds.Length - 1).Where(i => fullIds[i] == engine.Model.Config.SegTokenIdx).Select(i => i - 1).ToArray();
            var locPositions = Enumerable.Range(1, fullIds.Length - 1).Where(i => fullIds[i] == engine.Model.Config.LocTokenIdx).Select(i => i - 1).ToArray();
            Ids("seg_hidden_positions", LongIds("seg_hidden_positions"), segPositions);
            Ids("loc_hidden_positions", LongIds("loc_hidden_positions"), locPositions);
            var hidden = full.LastHiddenState[0];
            var seg = engine.Model.SegProjector.forward(hidden.index_select(0, tensor(segPositions.Select(p => (long)p).ToArray())));
            Close("seg_embeddings", seg, Features);
            var loc = engine.Model.DetProjector.forward(hidden.index_select(0, tensor(locPositions.Select(p => (long)p).ToArray())));
            Close("loc_embeddings", loc, Features);
            var boxes = engine.Model.DetDecoder.forward(loc);
            Close("det_boxes_raw", boxes, Features);
            var (h, w) = ImageSize();
            Close("det_boxes_pixels", SquareBoxMapping.ToFramePixels(boxes, h, w), Features);
            return seg.MoveToOuterDisposeScope();
        }

        private void Sam(Tensor segEmbeddings)
        {
            var sam = engine.Model.Sam;
            int side = sam.Config.ImageSize;
            var (h, w) = ImageSize();
            var resized = SamTransforms.ResizeLongestSide(Scene, side);
            Close("sam_resized_u8", resized, 1.0, absolute: true);
            var input = SamTransforms.NormalizeAndPad(resized, sam.Config);
            Close("sam_input_checksum", stack(new[] { input.sum(), input.abs().mean() }), Features);
            int rh = (int)resized.shape[0], rw = (int)resized.shape[1];
            var embeddings = sam.ImageEncoder.forward(input);
            Close("sam_image_embeddings", embeddings, Features);
            var densePe = sam.PromptEncoder.GetDensePe();
            Close("sam_dense_pe", densePe, Features);

            var (sparse, dense) = sam.PromptEncoder.Forward(textEmbeds: segEmbeddings.unsqueeze(1));
            Close("sam_sparse_text", sparse, Features);
            var corner = G("sam_dense_nomask");
            Close("sam_dense_nomask", dense[.., .., ..(int)corner.shape[2], ..(int)corner.shape[3]], Features);
            var (lowRes, iou) = sam.MaskDecoder.Forward(embeddings, densePe, sparse, dense, multimaskOutput: false);
            Close("sam_low_res_masks", lowRes, Logits);
            Close("sam_iou_predictions", iou, Logits);
            var masks = SamTransforms.PostprocessMasks(lowRes, rh, rw, h, w, side);
            Close("sam_masks_logits", masks, Logits);
            MaskIou("sam_mask_binary", masks.gt(0));

            var px = G("sam_point_box_coords_px");
            var point = SamTransforms.ApplyCoords(px[.., ..2].reshape(1, 1, 2), h, w, side);
            var box = SamTransforms.ApplyBoxes(px[.., 2..], h, w, side);
            var (pbSparse, pbDense) = sam.PromptEncoder.Forward(point, tensor(new long[] { 1 }).reshape(1, 1), box);
            Close("sam_point_box_sparse", pbSparse, Features);
            var (pbLow, pbIou) = sam.MaskDecoder.Forward(embeddings, densePe, pbSparse, pbDense, multimaskOutput: true);
            Close("sam_point_box_low_res", pbLow, Logits);
            Close("sam_point_box_iou", pbIou, Logits);
            Close("sam_point_box_masks_logits", SamTransforms.PostprocessMasks(pbLow, rh, rw, h, w, side), Logits);
        }

        private void Caption(Tensor projected)
        {
            var ids = LongIds("cap_prompt_ids");
            var embeds = engine.Splice(ids, projected, ImagePatch);
            using (var output = engine.Model.Llm.forward(LlamaInput.FromEmbeddings(embeds, logits: LogitsPositions.Last)))
                Close("cap_last_logits", output.Logits![.., -1], Logits);
            Greedy("cap", embeds, (int)G("cap_greedy_ids").shape[1]);
        }

        private void Video()
        {
            var pixels = engine.Processor.PreprocessVideo(G("video_frames_u8"));
            Pixels("video_pixel_values", pixels);
            var perFrame = engine.Model.VisionTower.forward(G("video_pixel_values"));
            var tokens = VideoTokens.FromFrameFeatures(perFrame);
            Close("video_st_features", tokens, Features);
            var ids = LongIds("video_prompt_ids");
            var embeds = engine.Splice(ids, engine.Model.Projector.forward(tokens), VideoPatch);
            using (var output = engine.Model.Llm.forward(LlamaInput.FromEmbeddings(embeds, logits: LogitsPositions.Last)))
                Close("video_last_logits", output.Logits![.., -1], Logits);
            Greedy("video", embeds, (int)G("video_greedy_ids").shape[1]);
        }

        private void Greedy(string prefix, Tensor promptEmbeds, int steps)
        {
            using var cache = engine.Model.Llm.CreateCache((int)promptEmbeds.shape[1] + steps + 1);
            using var result = engine.Model.Llm.Generate(LlamaInput.FromEmbeddings(promptEmbeds), cache,
                new GenerationOptions { MaxNewTokens = steps, ReturnStepLogits = true, EosTokenIds = new long[] { -1 } });
            Ids($"{prefix}_greedy_ids", LongIds($"{prefix}_greedy_ids"), result.TokenIds[0].data<long>().Select(i => (int)i).ToArray());
            Close($"{prefix}_greedy_step_logits", result.StepLogits!.squeeze(0), Logits);
        }

        private (int H, int W) ImageSize()
        {
            var hw = json.GetProperty("image_size_hw").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            return (hw[0], hw[1]);
        }

        private Tensor G(string name) => golden.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"{dir}: golden tensor '{name}' is missing");

        private int[] LongIds(string name) => G(name).flatten().data<long>().Select(i => (int)i).ToArray();

        private void Ids(string name, int[] expected, int[] actual)
        {
            int firstDiff = Enumerable.Range(0, Math.Min(expected.Length, actual.Length)).FirstOrDefault(i => expected[i] != actual[i], -1);
            bool ok = expected.Length == actual.Length && firstDiff < 0;
            rows.Add(new Row(name, ok ? 0 : 1, ok ? 0 : 1, ok,
                ok ? "" : firstDiff >= 0 ? $"first difference at {firstDiff}: {actual[firstDiff]} vs {expected[firstDiff]}" : $"length {actual.Length} vs {expected.Length}"));
        }

        private void Close(string name, Tensor actual, double tolerance, bool absolute = false)
        {
            var expected = G(name);
            if (!expected.shape.SequenceEqual(actual.shape))
            {
                rows.Add(new Row(name, double.NaN, double.NaN, false, $"shape [{string.Join(",", actual.shape)}] vs [{string.Join(",", expected.shape)}]"));
                return;
            }
            using var scope = NewDisposeScope();
            var e = expected.to_type(ScalarType.Float64);
            var diff = (actual.to_type(ScalarType.Float64).cpu() - e).abs();
            double maxAbs = diff.max().item<double>(), scale = e.abs().max().item<double>();
            double maxRel = scale == 0 ? maxAbs : maxAbs / scale;
            rows.Add(new Row(name, maxAbs, maxRel, (absolute ? maxAbs : maxRel) <= tolerance));
        }

        /// <summary>CLIP pixel values from raw pixels: max abs ≤ 0.02 and mean abs ≤ 0.002 (antialiased bicubic, like PIL).</summary>
        private void Pixels(string name, Tensor actual)
        {
            using var scope = NewDisposeScope();
            var diff = (actual.cpu() - G(name)).abs();
            double maxAbs = diff.max().item<float>(), meanAbs = diff.mean().item<float>();
            rows.Add(new Row(name, maxAbs, meanAbs, maxAbs <= 0.02 && meanAbs <= 0.002, "max_rel column: mean abs"));
        }

        private void MaskIou(string name, Tensor actual)
        {
            using var scope = NewDisposeScope();
            var a = actual.to_type(ScalarType.Bool).cpu();
            var e = G(name).to_type(ScalarType.Bool);
            double inter = logical_and(a, e).sum().item<long>(), union = logical_or(a, e).sum().item<long>();
            double iou = union == 0 ? 1 : inter / union;
            rows.Add(new Row(name, 1 - iou, 1 - iou, iou >= 0.999, string.Create(CultureInfo.InvariantCulture, $"IoU {iou:F6}")));
        }
    }
}
