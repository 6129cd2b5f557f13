using ULlava.Cli.Commands;

namespace ULlava.Cli.Tests;

/// <summary>
/// Tests that busy every core for seconds or hold a process to a deadline: they run one at a time, after the others of
/// this assembly, so neither starves the other (the proxy missed its 2 s stop twice in clean-clone CI runs beside them).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAloneCollection
{
    public const string Name = "runs alone";
}

[Collection(RunsAloneCollection.Name)]
public sealed class BenchCommandTests
{
    [Fact]
    public void BenchWritesEveryFigureTheReportPromises()
    {
        string json = Path.Combine(Directory.CreateTempSubdirectory("ullava-bench").FullName, "bench.json");
        try
        {
            var stdout = Console.Out;
            Console.SetOut(TextWriter.Null);
            int code;
            try
            {
                // The default size with random weights on rendered frames: no checkpoint, no video decoder.
                code = BenchCommand.Run(new ArgReader(new[]
                {
                    "--quick", "--synthetic", "--frames", "2", "--random-weights", "default",
                    "--model", Path.Combine(AppContext.BaseDirectory, "fixtures", "ullava-tiny", "ckpt"), "--json", json,
                }));
            }
            finally
            {
                Console.SetOut(stdout);
            }
            Assert.Equal(0, code);
            using var report = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
            var root = report.RootElement;
            foreach (var key in new[] { "standing_seg_fps", "second_instruction_ratio", "second_instruction_batched_ratio", "decode_ms_per_token" })
                Assert.True(root.GetProperty(key).GetDouble() > 0, key);
            Assert.Equal("cpu", root.GetProperty("machine").GetProperty("device").GetString());
            var stages = root.GetProperty("stages_ms");
            foreach (var key in new[] { "clip_ms", "sam_encoder_ms", "first_instruction_ms", "second_instruction_ms", "two_instructions_batched_ms", "mask_decode_ms" })
                Assert.True(stages.GetProperty(key).GetDouble() > 0, key);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(json)!, true);
        }
    }
}
