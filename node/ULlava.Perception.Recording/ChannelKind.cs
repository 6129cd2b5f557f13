namespace ULlava.Perception.Recording;

/// <summary>Values of the <see cref="RecordingTopics.KindKey"/> channel metadata.</summary>
public static class ChannelKind
{
    public const string FrameImage = "frame_image";
    public const string FrameHeader = "frame_header";
    public const string Command = "command";
    public const string Published = "published";

    /// <summary>Computed from other channels for viewers (annotations, camera info): not replayed.</summary>
    public const string Derived = "derived";
}
