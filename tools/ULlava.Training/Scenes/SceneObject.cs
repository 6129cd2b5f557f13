namespace ULlava.Training.Scenes;

/// <summary>
/// One drawn object: what it is, its colour as rendered (after the scene's lighting, before pixel noise), where it
/// was placed, and its visible mask (row-major, 1 where this object is the top-most one) with the mask's tight box.
/// </summary>
public sealed record SceneObject(
    ShapeKind Shape,
    SceneColour Colour,
    byte[] RenderedRgb,
    double CenterX,
    double CenterY,
    double Radius,
    double Rotation,
    byte[] Mask,
    PixelBox Box,
    int VisiblePixels,
    int FullPixels)
{
    /// <summary>"red circle": the phrase questions and [tag] answers use.</summary>
    public string Phrase => $"{Colour.Name} {ShapeNames.Of(Shape)}";
}
