namespace ULlava.Perception.Recording.Mcap;

/// <summary>Where the summary's run of one record kind starts and how long it is.</summary>
public sealed record McapSummaryOffset(McapOpcode GroupOpcode, ulong GroupStart, ulong GroupLength);
