using System.Text.Json;
using System.Text.Json.Serialization;

namespace ULlava.Perception.Model.Config;

/// <summary>crop_size as Hugging Face writes it: a number, or {"height": h, "width": w}.</summary>
[JsonConverter(typeof(JsonCropSizeConverter))]
public sealed record JsonCropSize(int Height, int Width)
{
    public JsonCropSize(int side) : this(side, side) { }
}

internal sealed class JsonCropSizeConverter : JsonConverter<JsonCropSize>
{
    public override JsonCropSize Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number) return new JsonCropSize(reader.GetInt32());
        using var doc = JsonDocument.ParseValue(ref reader);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("height", out var h) || !root.TryGetProperty("width", out var w))
            throw new JsonException("crop_size: expected a number or {\"height\": h, \"width\": w}");
        return new JsonCropSize(h.GetInt32(), w.GetInt32());
    }

    public override void Write(Utf8JsonWriter writer, JsonCropSize value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteNumber("height", value.Height);
        writer.WriteNumber("width", value.Width);
        writer.WriteEndObject();
    }
}
