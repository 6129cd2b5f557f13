namespace ULlava.Perception.Recording.Session;

internal enum RecordItemKind
{
    Frame,
    Command,
    Published,
    Metadata,
}
