using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace ULlava.Perception.Recording.Schemas;

/// <summary>
/// MCAP schemas for protobuf channels: encoding "protobuf", the message's full name, and a serialized
/// FileDescriptorSet holding its file and every file it imports, transitively (what Foxglove and @mcap/support expect).
/// </summary>
public static class ProtobufSchemas
{
    public const string Encoding = "protobuf";

    public static FileDescriptorSet BuildFileDescriptorSet(MessageDescriptor message)
    {
        var set = new FileDescriptorSet();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // Dependencies first, so a reader can resolve each file's imports as it goes.
        void Add(FileDescriptor file)
        {
            if (!seen.Add(file.Name))
            {
                return;
            }
            foreach (var dependency in file.Dependencies)
            {
                Add(dependency);
            }
            set.File.Add(FileDescriptorProto.Parser.ParseFrom(file.SerializedData));
        }
        Add(message.File);
        return set;
    }

    public static byte[] SchemaData(MessageDescriptor message) => BuildFileDescriptorSet(message).ToByteArray();
}
