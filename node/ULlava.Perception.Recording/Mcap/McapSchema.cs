namespace ULlava.Perception.Recording.Mcap;

/// <summary>Id 0 is reserved ("no schema"); for protobuf, Name is the full message name and Data a FileDescriptorSet.</summary>
public sealed record McapSchema(ushort Id, string Name, string Encoding, byte[] Data);
