namespace ULlava.Training.Scenes;

/// <summary>A rendered image (RGB bytes, row-major HWC) and its objects in drawing order (later ones on top).</summary>
public sealed record Scene(int Width, int Height, byte[] Rgb, IReadOnlyList<SceneObject> Objects, BackgroundKind Background, int NoiseAmplitude);
