using ULlava.Perception.Messages;

namespace ULlava.Perception.Recording;

/// <summary>Topics that exist only in recordings, beside the published ones (which keep their own names).</summary>
public static class RecordingTopics
{
    /// <summary>foxglove.CompressedImage: the input frames as the model saw them, JPEG or PNG.</summary>
    public static string Image(string streamId) => $"{Topics.Prefix}{streamId}/image";

    /// <summary>ullava.perception.v1.FrameHeader of each recorded image, same log time, written just before it.</summary>
    public static string FrameHeader(string streamId) => $"{Topics.Prefix}{streamId}/frame";

    /// <summary>foxglove.ImageAnnotations drawn from each InstructionResult's masks and boxes.</summary>
    public static string Annotations(string streamId) => $"{Topics.Prefix}{streamId}/annotations";

    /// <summary>foxglove.CameraCalibration from the stream's calibration.</summary>
    public static string CameraInfo(string streamId) => $"{Topics.Prefix}{streamId}/camera_info";

    /// <summary>ullava.perception.v1.Command bytes as received; log time = receive time.</summary>
    public const string Commands = Topics.Prefix + "commands";

    /// <summary>Channel metadata key telling the replay reader what a channel holds (values: <see cref="ChannelKind"/>).</summary>
    public const string KindKey = "ullava.kind";

    public const string StreamKey = "ullava.stream";
}
