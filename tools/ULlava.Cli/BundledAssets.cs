namespace ULlava.Cli;

/// <summary>The embedded default: files the node project copies beside the program (assets/).</summary>
public static class BundledAssets
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "assets");
    public static string SampleVideo => Path.Combine(Root, "sample-shapes.mp4");
    public static string DefaultModel => Path.Combine(Root, "models", "ullava-shapes");
}
