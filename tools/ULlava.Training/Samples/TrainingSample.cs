using ULlava.Training.Scenes;

namespace ULlava.Training.Samples;

/// <summary>
/// One supervised example: the frame(s) as RGB bytes (row-major HWC), the user's question and the assistant's answer
/// (without the closing &lt;/s&gt;, which the conversation template adds), and for [SEG]/[LOC] answers the target
/// mask (row-major, 0/1, frame size) and its tight box in frame pixels. <see cref="Focus"/> is the mask of what an
/// answer without targets is about (an attribute question's object, a count's objects: null for none), for the
/// attention guidance. A clip's samples carry <see cref="ClipMotion"/>, the way its moving object goes (whichever object
/// the question asks about), for <see cref="Training.FrameMotionProbe"/>.
/// </summary>
public sealed record TrainingSample(
    ulong Seed,
    TaskKind Kind,
    int Width,
    int Height,
    IReadOnlyList<byte[]> Frames,
    string Question,
    string Answer,
    byte[]? Mask = null,
    PixelBox? Box = null,
    string? Phrase = null,
    byte[]? Focus = null,
    MotionDirection? ClipMotion = null)
{
    public bool IsVideo => Kind == TaskKind.VideoDirection;

    /// <summary>Whether the answer holds [SEG] and [LOC], so the mask and box heads are trained on it.</summary>
    public bool HasTargets => Mask is not null && Box is not null;
}
