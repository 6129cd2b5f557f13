namespace ULlava.Training.Scenes;

/// <summary>One object to draw: its shape and palette colour, centre and half-extent in pixels, and rotation in radians.</summary>
public sealed record ShapeSpec(ShapeKind Shape, SceneColour Colour, double X, double Y, double Radius, double Rotation = 0);
