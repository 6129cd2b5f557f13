namespace ULlava.Perception.Recording.Mcap;

/// <summary>Bytes that do not follow the MCAP layout (a field running past its record, an unknown compression...).</summary>
public sealed class McapFormatException(string message) : Exception(message);
