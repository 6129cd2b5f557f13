namespace ULlava.Perception.Recording.Mcap;

public sealed record McapAttachment(ulong LogTime, ulong CreateTime, string Name, string MediaType, byte[] Data);
