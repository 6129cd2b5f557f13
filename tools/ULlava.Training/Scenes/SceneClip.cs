namespace ULlava.Training.Scenes;

/// <summary>A short clip: frames of one scene in which the object at <see cref="MovingIndex"/> moves in <see cref="Direction"/>.</summary>
public sealed record SceneClip(IReadOnlyList<Scene> Frames, int MovingIndex, MotionDirection Direction)
{
    public SceneObject Moving => Frames[0].Objects[MovingIndex];
}
