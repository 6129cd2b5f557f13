namespace ULlava.Training.Scenes;

/// <summary>How the moving object of a clip travels (image rows grow downwards).</summary>
public enum MotionDirection
{
    Left,
    Right,
    Up,
    Down,
    Still,
}
