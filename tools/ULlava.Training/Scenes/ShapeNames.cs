namespace ULlava.Training.Scenes;

/// <summary>The English words for shapes, singular and plural, as every question and answer spells them.</summary>
public static class ShapeNames
{
    public static string Of(ShapeKind shape) => shape switch
    {
        ShapeKind.Circle => "circle",
        ShapeKind.Square => "square",
        ShapeKind.Triangle => "triangle",
        ShapeKind.Star => "star",
        ShapeKind.Hexagon => "hexagon",
        ShapeKind.Diamond => "diamond",
        ShapeKind.Cross => "cross",
        ShapeKind.Heart => "heart",
        ShapeKind.Ring => "ring",
        ShapeKind.House => "house",
        _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, null),
    };

    public static string Plural(ShapeKind shape) => shape switch
    {
        ShapeKind.Cross => "crosses",
        ShapeKind.House => "houses",
        _ => Of(shape) + "s",
    };
}
