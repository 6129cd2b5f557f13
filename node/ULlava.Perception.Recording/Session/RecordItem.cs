using Google.Protobuf.Reflection;
using ULlava.Perception.Messages.V1;

namespace ULlava.Perception.Recording.Session;

/// <summary>One queued thing to record; the payload is the caller's bytes copied at enqueue.</summary>
internal sealed record RecordItem(RecordItemKind Kind, long LogTimeUnixNs, byte[] Payload)
{
    public FrameHeader? Header { get; init; }
    public string Format { get; init; } = "";
    public string Topic { get; init; } = "";
    public MessageDescriptor? Type { get; init; }
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}
