using System.Text.Json;

namespace ULlava.Perception.Model.Tests;

/// <summary>Paths into the copied reference fixtures (tests/fixtures), as they sit beside the test assembly.</summary>
public static class Fixtures
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "fixtures");
    public static string Tiny => Path.Combine(Root, "ullava-tiny");
    public static string TinyCheckpoint => Path.Combine(Tiny, "ckpt");
    public static string TinyCheckpointBin => Path.Combine(Tiny, "ckpt_bin");
    public static string GoldenImage => Path.Combine(Tiny, "golden_image.safetensors");
    public static string GoldenVideo => Path.Combine(Tiny, "golden_video.safetensors");
    public static string ScenePng => Path.Combine(Tiny, "scene.png");
    public static string Manifest7B => Path.Combine(Root, "ullava7b_manifest.json");

    private static readonly Lazy<JsonDocument> GoldenJsonDoc = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Tiny, "golden.json"))));

    /// <summary>golden.json: prompts, token ids, tensor list, notes.</summary>
    public static JsonElement GoldenJson => GoldenJsonDoc.Value.RootElement;
}
