using OpenCvSharp;
using TorchSharp;
using TorchSharp.PyBridge;
using ULlava.Cli;
using ULlava.Cli.Commands;
using static TorchSharp.torch;

namespace ULlava.Cli.Tests;

public class CliCommandTests
{
    private static string Fixture => Path.Combine(AppContext.BaseDirectory, "fixtures", "ullava-tiny");

    [Fact]
    public void GoldenCheckPassesEveryTensorOfTheFixture()
    {
        var rows = GoldenCheckCommand.Check(Fixture);
        Assert.True(rows.Count >= 50, $"only {rows.Count} tensors checked");
        Assert.All(rows, r => Assert.True(r.Ok, r.ToString()));
        foreach (var name in new[] { "seg_prompt_logits", "sam_mask_binary", "det_boxes_pixels", "video_greedy_ids", "tokenizer.unicode" })
            Assert.Contains(rows, r => r.Name == name);
    }

    [Fact]
    public void GoldenCheckReportsAPerturbedTensor()
    {
        var dir = CopyFixture();
        try
        {
            string path = Path.Combine(dir, "golden_image.safetensors");
            var tensors = Safetensors.LoadStateDict(path);
            tensors["seg_prompt_logits"] = tensors["seg_prompt_logits"] * 1.01f;
            File.Delete(path);
            Safetensors.SaveStateDict(path, tensors);
            var rows = GoldenCheckCommand.Check(dir);
            Assert.False(rows.Single(r => r.Name == "seg_prompt_logits").Ok);
            Assert.True(rows.Single(r => r.Name == "seg_prompt_last_hidden").Ok);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void TheProgramsStderrCarriesNoNnpackWarningPerConvolution()
    {
        // libtorch tries NNPACK for CPU convolutions and, on CPUs it does not support, printed a warning each time.
        var outDir = Directory.CreateTempSubdirectory("ullava-nnpack").FullName;
        try
        {
            var (code, _, stderr) = UllavaProcess.Run(TimeSpan.FromMinutes(2), "infer", "--image", Path.Combine(Fixture, "scene.png"),
                "--prompt", "Please segment and locate the red circle in this image.", "--kind", "segment",
                "--model", Path.Combine(Fixture, "ckpt"), "--out", outDir);
            Assert.Equal(0, code);
            Assert.DoesNotContain("NNPACK", stderr);
        }
        finally
        {
            Directory.Delete(outDir, true);
        }
    }

    [Fact]
    public void InferSegmentWritesTheReferenceMaskAndPrintsTheReferenceBox()
    {
        var outDir = Directory.CreateTempSubdirectory("ullava-infer").FullName;
        try
        {
            var output = new StringWriter();
            var stdout = Console.Out;
            Console.SetOut(output);
            int code;
            try
            {
                code = InferCommand.Run(new ArgReader(new[]
                {
                    "--image", Path.Combine(Fixture, "scene.png"), "--prompt", "Please segment and locate the red circle in this image.",
                    "--kind", "segment", "--model", Path.Combine(Fixture, "ckpt"), "--out", outDir,
                }));
            }
            finally
            {
                Console.SetOut(stdout);
            }
            Assert.Equal(0, code);
            var golden = Safetensors.LoadStateDict(Path.Combine(Fixture, "golden_image.safetensors"));
            using var mask = Cv2.ImRead(Path.Combine(outDir, "mask_0.png"), ImreadModes.Grayscale);
            mask.GetArray(out byte[] pixels);
            var expected = golden["sam_mask_binary"].flatten().data<byte>().ToArray();
            Assert.Equal(expected.Length, pixels.Length);
            Assert.Equal(expected, pixels.Select(p => (byte)(p > 127 ? 1 : 0)).ToArray());
            Assert.True(File.Exists(Path.Combine(outDir, "annotated.png")));

            using var json = System.Text.Json.JsonDocument.Parse(output.ToString());
            var box = json.RootElement.GetProperty("boxes")[0];
            var px = golden["det_boxes_pixels"][0].data<float>().ToArray();
            Assert.Equal(px[0], box.GetProperty("x_min").GetSingle(), 3);
            Assert.Equal(px[2], box.GetProperty("x_max").GetSingle(), 3);
        }
        finally
        {
            Directory.Delete(outDir, true);
        }
    }

    [Fact]
    public void ArgumentErrorsNameTheOption()
    {
        var e = Assert.Throws<UsageException>(() => new ArgReader(new[] { "--fps", "fast" }).Int("--fps", 15, 1, 120));
        Assert.Contains("--fps fast", e.Message);
        var unknown = Assert.Throws<UsageException>(() => new ArgReader(new[] { "--colour", "red" }).EnsureAllUsed());
        Assert.Contains("--colour", unknown.Message);
    }

    private static string CopyFixture()
    {
        var dir = Directory.CreateTempSubdirectory("ullava-fixture").FullName;
        foreach (var file in Directory.GetFiles(Fixture, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(dir, Path.GetRelativePath(Fixture, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return dir;
    }
}
