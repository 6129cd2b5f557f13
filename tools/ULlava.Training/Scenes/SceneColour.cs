namespace ULlava.Training.Scenes;

/// <summary>A named, saturated object colour; backgrounds are muted so every palette colour stands out on them.</summary>
public sealed record SceneColour(string Name, byte R, byte G, byte B)
{
    public static IReadOnlyList<SceneColour> Palette { get; } =
    [
        new("red", 220, 30, 30),
        new("green", 30, 170, 50),
        new("blue", 30, 60, 220),
        new("yellow", 240, 220, 30),
        new("orange", 245, 130, 20),
        new("purple", 140, 40, 190),
        new("pink", 245, 110, 180),
        new("cyan", 20, 200, 215),
    ];
}
