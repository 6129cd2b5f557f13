namespace ULlava.Perception.Recording.Mcap;

public sealed record McapMetadata(string Name, IReadOnlyDictionary<string, string> Values);
