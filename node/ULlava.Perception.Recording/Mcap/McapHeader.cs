namespace ULlava.Perception.Recording.Mcap;

public sealed record McapHeader(string Profile, string Library);
