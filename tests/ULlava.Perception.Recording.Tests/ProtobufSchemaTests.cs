using Google.Protobuf;
using Google.Protobuf.Reflection;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Recording.Schemas;

namespace ULlava.Perception.Recording.Tests;

public sealed class ProtobufSchemaTests
{
    /// <summary>Rebuilds descriptors from the set alone: proves it is self-contained and dependency-ordered.</summary>
    private static IReadOnlyList<FileDescriptor> Rebuild(byte[] data)
    {
        var set = FileDescriptorSet.Parser.ParseFrom(data);
        return FileDescriptor.BuildFromByteStrings(set.File.Select(f => f.ToByteString()));
    }

    [Fact]
    public void InstructionResult_schema_holds_its_file_and_header_proto()
    {
        var data = ProtobufSchemas.SchemaData(InstructionResult.Descriptor);
        var set = FileDescriptorSet.Parser.ParseFrom(data);

        Assert.Equal(["ullava/perception/v1/header.proto", "ullava/perception/v1/results.proto"], set.File.Select(f => f.Name));
        var results = set.File[1];
        Assert.Contains("ullava/perception/v1/header.proto", results.Dependency);

        var rebuilt = Rebuild(data);
        var type = rebuilt[^1].MessageTypes.Single(m => m.Name == "InstructionResult");
        Assert.Equal("ullava.perception.v1.InstructionResult", type.FullName);
        Assert.Equal("ullava.perception.v1.FrameHeader", type.FindFieldByName("header").MessageType.FullName);
    }

    [Fact]
    public void Transitive_dependencies_are_included_once_before_their_users()
    {
        // Reply imports results.proto and status.proto; results.proto imports header.proto.
        var set = FileDescriptorSet.Parser.ParseFrom(ProtobufSchemas.SchemaData(Reply.Descriptor));
        var names = set.File.Select(f => f.Name).ToList();

        Assert.Equal(names.Distinct().Count(), names.Count);
        Assert.Contains("ullava/perception/v1/header.proto", names);
        Assert.Equal("ullava/perception/v1/commands.proto", names[^1]);
        foreach (var (file, index) in set.File.Select((f, i) => (f, i)))
        {
            Assert.All(file.Dependency, d => Assert.True(names.IndexOf(d) is >= 0 and var at && at < index, $"{d} before {file.Name}"));
        }
        Assert.NotNull(Rebuild(ProtobufSchemas.SchemaData(Reply.Descriptor))[^1].MessageTypes.Single(m => m.Name == "Reply"));
    }

    [Fact]
    public void Foxglove_schemas_bring_the_well_known_timestamp()
    {
        var set = FileDescriptorSet.Parser.ParseFrom(ProtobufSchemas.SchemaData(Foxglove.ImageAnnotations.Descriptor));
        var names = set.File.Select(f => f.Name).ToList();

        Assert.Contains("google/protobuf/timestamp.proto", names);
        Assert.Contains("foxglove/PointsAnnotation.proto", names);
        Assert.Equal("foxglove/ImageAnnotations.proto", names[^1]);
        Assert.Equal("foxglove", set.File[^1].Package);
    }

    [Fact]
    public void A_message_decodes_through_the_rebuilt_descriptor()
    {
        var result = SessionSample.Result(2);
        var type = Rebuild(ProtobufSchemas.SchemaData(InstructionResult.Descriptor))[^1].MessageTypes.Single(m => m.Name == "InstructionResult");

        // Without the generated class: the descriptor's field numbers and types read the bytes.
        var textField = type.FindFieldByName("text");
        var input = new CodedInputStream(result.ToByteArray());
        string? text = null;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == textField.FieldNumber)
            {
                text = input.ReadString();
            }
            else
            {
                input.SkipLastField();
            }
        }
        Assert.Equal("the cup 2", text);
    }
}
