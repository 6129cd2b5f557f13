namespace ULlava.Perception.Recording.Mcap;

public enum McapProblemKind
{
    /// <summary>No usable summary (no footer, or footer without one): the data section was stream-scanned.</summary>
    NoSummary,
    /// <summary>The file ends inside a record: bytes from that record on were skipped.</summary>
    Truncated,
    /// <summary>A record's fields do not parse: the rest of that record (or chunk) was skipped.</summary>
    Malformed,
    ChunkCrcMismatch,
    DataSectionCrcMismatch,
    SummaryCrcMismatch,
    AttachmentCrcMismatch,
}
