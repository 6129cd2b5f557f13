namespace ULlava.Perception.Messages;

/// <summary>
/// Topic names of the publish socket: frames are [topic, protobuf]. Subscribers filter by prefix, so
/// "ullava/v1/cam0/" is everything about one stream and "ullava/v1/" everything.
/// </summary>
public static class Topics
{
    public const string Prefix = "ullava/v1/";

    /// <summary>InstructionResult: every (frame, instruction) with text, masks, boxes and timings.</summary>
    public static string Results(string streamId) => $"{Prefix}{streamId}/results";

    /// <summary>MaskSet: the masks of one result.</summary>
    public static string Masks(string streamId) => $"{Prefix}{streamId}/masks";

    /// <summary>BoxSet: the boxes of one result.</summary>
    public static string Boxes(string streamId) => $"{Prefix}{streamId}/boxes";

    /// <summary>TextUpdate: pieces as they are generated, then the final answer.</summary>
    public static string Text(string streamId) => $"{Prefix}{streamId}/text";

    /// <summary>CameraCalibration of a stream, re-sent periodically for late joiners.</summary>
    public static string Calibration(string streamId) => $"{Prefix}{streamId}/calibration";

    /// <summary>NodeStatus: heartbeat at a fixed rate.</summary>
    public const string Status = Prefix + "status";

    /// <summary>Stream ids become topic segments: letters, digits, '-', '_' and '.', 1 to 64 of them.</summary>
    public static bool IsValidStreamId(string streamId) =>
        streamId.Length is > 0 and <= 64 && streamId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
