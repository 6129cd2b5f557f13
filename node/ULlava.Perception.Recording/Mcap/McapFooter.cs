namespace ULlava.Perception.Recording.Mcap;

/// <summary>Zero offsets mean the file has no summary; a zero CRC means none was computed.</summary>
public sealed record McapFooter(ulong SummaryStart, ulong SummaryOffsetStart, uint SummaryCrc);
