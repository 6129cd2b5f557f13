namespace ULlava.Training.Scenes;

/// <summary>What the generator draws: geometric shapes and a few simple objects (ring, house, heart, cross).</summary>
public enum ShapeKind
{
    Circle,
    Square,
    Triangle,
    Star,
    Hexagon,
    Diamond,
    Cross,
    Heart,
    Ring,
    House,
}
