using ULlava.Perception.Messages.V1;

namespace ULlava.Perception.Recording.Replay;

/// <summary>An input frame: its header and the encoded image ("jpeg" or "png") as recorded.</summary>
public sealed record RecordedFrame(long LogTimeUnixNs, FrameHeader Header, string Format, byte[] Data) : RecordedEvent(LogTimeUnixNs);
