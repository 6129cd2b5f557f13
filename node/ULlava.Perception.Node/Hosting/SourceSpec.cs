namespace ULlava.Perception.Node.Hosting;

/// <summary>A source as given on the command line: <c>[id=]uri</c>.</summary>
public sealed record SourceSpec(string StreamId, string Uri)
{
    /// <summary>The camera's calibration and mount, when given: results then carry rays and ground points.</summary>
    public Results.CameraGeometry? Camera { get; init; }

    /// <summary>Parses <c>cam0=rtsp://...</c> or a bare uri (then the id is <c>stream{index}</c>).</summary>
    public static SourceSpec Parse(string text, int index)
    {
        int eq = text.IndexOf('=');
        int scheme = text.IndexOf("://", StringComparison.Ordinal);
        if (eq > 0 && (scheme < 0 || eq < scheme))
        {
            string id = text[..eq];
            if (!Messages.Topics.IsValidStreamId(id))
                throw new ArgumentException($"source '{text}': stream id '{id}' must be 1-64 letters, digits, '-', '_' or '.'");
            return new SourceSpec(id, text[(eq + 1)..]);
        }
        return new SourceSpec($"stream{index}", text);
    }
}
