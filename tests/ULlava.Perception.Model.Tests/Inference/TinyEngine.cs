using ULlava.Perception.Core.Frames;
using ULlava.Perception.Model.Inference;

namespace ULlava.Perception.Model.Tests.Inference;

/// <summary>The fixture checkpoint loaded through the public engine API, once for the test run.</summary>
public static class TinyEngine
{
    private static readonly Lazy<ULlavaEngine> Shared = new(() => Load());

    public static ULlavaEngine Instance => Shared.Value;

    public static ULlavaEngine Load(string? dir = null, string dtype = "float32") =>
        ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = dir ?? Fixtures.TinyCheckpoint, DType = dtype });

    public static Frame Scene(ulong sequence = 0)
    {
        var (rgb, w, h) = PngReader.ReadRgb(Fixtures.ScenePng);
        return new Frame(new FrameStamp("cam0", sequence, 1_000_000 + (long)sequence), w, h, rgb);
    }

    public static string SegQuestion =>
        Fixtures.GoldenJson.GetProperty("prompts").GetProperty("seg_question").GetString()!.Split('\n', 2)[1];
}
