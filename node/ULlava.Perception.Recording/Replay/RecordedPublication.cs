namespace ULlava.Perception.Recording.Replay;

/// <summary>A message the node published: topic, protobuf full type name and payload bytes.</summary>
public sealed record RecordedPublication(long LogTimeUnixNs, string Topic, string MessageType, byte[] Payload) : RecordedEvent(LogTimeUnixNs);
