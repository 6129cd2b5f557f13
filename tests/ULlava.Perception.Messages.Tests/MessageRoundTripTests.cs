using Google.Protobuf;
using Google.Protobuf.Reflection;
using ULlava.Perception.Messages;
using ULlava.Perception.Messages.V1;

namespace ULlava.Perception.Messages.Tests;

public class MessageRoundTripTests
{
    /// <summary>Every message type of the contract, found from the generated file descriptors.</summary>
    public static TheoryData<string> AllMessages()
    {
        var data = new TheoryData<string>();
        foreach (var file in new[] { HeaderReflection.Descriptor, ResultsReflection.Descriptor, StatusReflection.Descriptor,
                                     CalibrationReflection.Descriptor, CommandsReflection.Descriptor })
        foreach (var message in file.MessageTypes)
            data.Add(message.FullName);
        return data;
    }

    private static MessageDescriptor Find(string fullName) =>
        new[] { HeaderReflection.Descriptor, ResultsReflection.Descriptor, StatusReflection.Descriptor,
                CalibrationReflection.Descriptor, CommandsReflection.Descriptor }
            .SelectMany(f => f.MessageTypes).Single(m => m.FullName == fullName);

    [Theory]
    [MemberData(nameof(AllMessages))]
    public void EveryFieldSurvivesBinaryAndJsonRoundTrip(string fullName)
    {
        var descriptor = Find(fullName);
        var message = Populated(descriptor, seed: 1);

        var bytes = message.ToByteArray();
        var parsed = descriptor.Parser.ParseFrom(bytes);
        Assert.Equal(message, parsed);

        var json = JsonFormatter.Default.Format(message);
        var fromJson = JsonParser.Default.Parse(json, descriptor);
        Assert.Equal(message, fromJson);
    }

    [Theory]
    [MemberData(nameof(AllMessages))]
    public void PopulatedMessageSetsEveryField(string fullName)
    {
        // Guards the round-trip test itself: a field left at its default would round-trip trivially.
        var descriptor = Find(fullName);
        var message = Populated(descriptor, seed: 1);
        foreach (var field in descriptor.Fields.InFieldNumberOrder())
        {
            if (field.ContainingOneof is { IsSynthetic: false } oneof && oneof.Accessor.GetCaseFieldDescriptor(message) != field) continue;
            var value = field.Accessor.GetValue(message);
            bool set = field.IsRepeated || field.IsMap ? ((System.Collections.ICollection)value).Count > 0 : !IsDefault(field, value);
            Assert.True(set, $"{fullName}.{field.Name} was left unset");
        }
    }

    [Fact]
    public void CommandWithEachOneofCaseRoundTrips()
    {
        var oneof = Command.Descriptor.Oneofs.Single(o => o.Name == "body");
        Assert.Equal(11, oneof.Fields.Count);
        foreach (var field in oneof.Fields)
        {
            var command = new Command { RequestId = "r-" + field.Name };
            field.Accessor.SetValue(command, Populated(field.MessageType, seed: 7));
            var parsed = Command.Parser.ParseFrom(command.ToByteArray());
            Assert.Equal(field.Name, ((Command)parsed).BodyCase.ToString().ToSnakeCase());
            Assert.Equal(command, parsed);
        }
    }

    [Fact]
    public void GarbageBytesAreRejectedNotMisread()
    {
        var garbage = new byte[] { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01 };
        Assert.ThrowsAny<InvalidProtocolBufferException>(() => Command.Parser.ParseFrom(garbage));
    }

    [Fact]
    public void TopicsArePerStreamAndSharePrefix()
    {
        Assert.Equal("ullava/v1/cam0/results", Topics.Results("cam0"));
        Assert.Equal("ullava/v1/cam0/masks", Topics.Masks("cam0"));
        Assert.Equal("ullava/v1/cam0/boxes", Topics.Boxes("cam0"));
        Assert.Equal("ullava/v1/cam0/text", Topics.Text("cam0"));
        Assert.Equal("ullava/v1/cam0/calibration", Topics.Calibration("cam0"));
        Assert.StartsWith(Topics.Prefix, Topics.Status);
        Assert.True(Topics.IsValidStreamId("front_cam-1"));
        Assert.False(Topics.IsValidStreamId("a/b"));
        Assert.False(Topics.IsValidStreamId(""));
    }

    private static bool IsDefault(FieldDescriptor field, object? value) => value switch
    {
        null => true,
        string s => s.Length == 0,
        ByteString b => b.IsEmpty,
        bool b => !b,
        Enum e => Convert.ToInt32(e) == 0,
        IMessage => false,
        _ => Convert.ToDouble(value) == 0,
    };

    /// <summary>A message with every field set to a non-default value (one case per real oneof).</summary>
    private static IMessage Populated(MessageDescriptor descriptor, int seed)
    {
        var message = descriptor.Parser.ParseFrom(ByteString.Empty);
        foreach (var field in descriptor.Fields.InFieldNumberOrder())
        {
            if (field.ContainingOneof is { IsSynthetic: false } oneof && oneof.Fields[0] != field) continue;
            int s = seed + field.FieldNumber;
            if (field.IsMap)
            {
                var map = (System.Collections.IDictionary)field.Accessor.GetValue(message);
                var valueField = field.MessageType.FindFieldByNumber(2);
                map.Add("key" + s, Scalar(valueField, s));
            }
            else if (field.IsRepeated)
            {
                var list = (System.Collections.IList)field.Accessor.GetValue(message);
                list.Add(Scalar(field, s));
                list.Add(Scalar(field, s + 1));
            }
            else
            {
                field.Accessor.SetValue(message, Scalar(field, s));
            }
        }
        return message;
    }

    private static object Scalar(FieldDescriptor field, int s) => field.FieldType switch
    {
        FieldType.String => "v" + s,
        FieldType.Bool => true,
        FieldType.Double => s + 0.25,
        FieldType.Float => s + 0.5f,
        FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => (long)s * 1_000_000_007L,
        FieldType.UInt64 or FieldType.Fixed64 => (ulong)s * 1_000_000_007UL,
        FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => s,
        FieldType.UInt32 or FieldType.Fixed32 => (uint)s,
        FieldType.Bytes => ByteString.CopyFrom((byte)s, 2, 3),
        FieldType.Enum => field.EnumType.Values[^1].Number is var n ? Enum.ToObject(field.EnumType.ClrType, n) : 0,
        FieldType.Message => Populated(field.MessageType, s),
        _ => throw new NotSupportedException(field.FieldType.ToString()),
    };
}

internal static class NameExtensions
{
    public static string ToSnakeCase(this string pascal) =>
        string.Concat(pascal.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
