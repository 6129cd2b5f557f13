using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using NetMQ;
using NetMQ.Sockets;
using ULlava.Perception.Messages;
using ULlava.Perception.Messages.V1;

namespace ULlava.Perception.Transport;

/// <summary>
/// The `subscribe` CLI verb as a library: a SUB socket on a topic prefix that turns each [topic, protobuf] message
/// into one JSON line {"topic", "type", "message"} (protobuf JSON), the type picked by the topic's last segment.
/// </summary>
public sealed class SubscriberTool : IDisposable
{
    public const string DefaultEndpoint = "tcp://127.0.0.1:5556";

    public const string Usage = """
        subscribe [--endpoint tcp://127.0.0.1:5556] [--topic ullava/v1/] [--count N] [CURVE options]
          one JSON line per message: {"topic": ..., "type": ..., "message": {...protobuf JSON...}}
        """;

    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default);
    private readonly SubscriberSocket socket = new();

    /// <param name="curve">For a CURVE publisher: its public key (and this client's key pair).</param>
    public SubscriberTool(string endpoint, string topicPrefix = Topics.Prefix, CurveClientKeys? curve = null)
    {
        socket.Options.Linger = TimeSpan.Zero;
        curve?.Apply(socket);
        socket.Connect(endpoint);
        socket.Subscribe(topicPrefix);
    }

    /// <summary>The next message as a JSON line, or null when none came within the timeout.</summary>
    public string? Receive(TimeSpan timeout)
    {
        var message = new NetMQMessage();
        if (!socket.TryReceiveMultipartMessage(timeout, ref message)) return null;
        if (message.FrameCount != 2) return Line(message[0].ConvertToString(), null, null, $"expected [topic, protobuf], got {message.FrameCount} frames");
        return ToJsonLine(message[0].ConvertToString(Encoding.UTF8), message[1].ToByteArray());
    }

    /// <summary>Writes lines until cancelled or <paramref name="count"/> messages (0: no limit); returns how many.</summary>
    public int Run(TextWriter output, CancellationToken cancellation, int count = 0)
    {
        int written = 0;
        while (!cancellation.IsCancellationRequested && (count == 0 || written < count))
        {
            if (Receive(TimeSpan.FromMilliseconds(200)) is not { } line) continue;
            output.WriteLine(line);
            output.Flush();
            written++;
        }
        return written;
    }

    /// <summary>The message type published on a topic, by its last segment; null for topics of no known kind.</summary>
    public static MessageDescriptor? DescriptorFor(string topic)
    {
        if (topic == Topics.Status) return NodeStatus.Descriptor;
        return topic[(topic.LastIndexOf('/') + 1)..] switch
        {
            "results" => InstructionResult.Descriptor,
            "masks" => MaskSet.Descriptor,
            "boxes" => BoxSet.Descriptor,
            "text" => TextUpdate.Descriptor,
            "calibration" => CameraCalibration.Descriptor,
            _ => null,
        };
    }

    /// <summary>One JSON line for a [topic, protobuf] pair; an unknown topic or an unreadable payload says so in "error".</summary>
    public static string ToJsonLine(string topic, byte[] payload)
    {
        if (DescriptorFor(topic) is not { } descriptor) return Line(topic, null, null, $"no known message type for this topic ({payload.Length} bytes)");
        try
        {
            return Line(topic, descriptor.Name, Json.Format(descriptor.Parser.ParseFrom(payload)), null);
        }
        catch (InvalidProtocolBufferException e)
        {
            return Line(topic, descriptor.Name, null, $"not a {descriptor.Name}: {e.Message}");
        }
    }

    private static string Line(string topic, string? type, string? json, string? error)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("topic", topic);
            if (type is not null) writer.WriteString("type", type);
            if (json is not null)
            {
                writer.WritePropertyName("message");
                writer.WriteRawValue(json, skipInputValidation: true);
            }
            if (error is not null) writer.WriteString("error", error);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public void Dispose() => socket.Dispose();
}
