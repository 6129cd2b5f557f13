namespace ULlava.Training.Scenes;

public enum BackgroundKind
{
    Flat,
    Gradient,
    Noise,
}
