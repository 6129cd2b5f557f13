using System.Globalization;
using System.Text;

namespace ULlava.Perception.Web.Tests;

/// <summary>Reads a multipart/x-mixed-replace body part by part, checking each part's framing as it goes.</summary>
internal sealed class MjpegReader(Stream stream, string boundary)
{
    private readonly byte[] one = new byte[1];

    /// <summary>The next part's headers and body (its Content-Type must be image/jpeg and its Content-Length exact).</summary>
    public async Task<(Dictionary<string, string> Headers, byte[] Body)> NextAsync(CancellationToken cancellation)
    {
        string delimiter = await LineAsync(cancellation);
        Assert.Equal("--" + boundary, delimiter);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (string line; (line = await LineAsync(cancellation)).Length > 0;)
        {
            int colon = line.IndexOf(':');
            Assert.True(colon > 0, $"malformed part header '{line}'");
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        Assert.Equal("image/jpeg", headers["Content-Type"]);
        int length = int.Parse(headers["Content-Length"], CultureInfo.InvariantCulture);
        var body = new byte[length];
        await stream.ReadExactlyAsync(body, cancellation);
        Assert.Equal("", await LineAsync(cancellation)); // CRLF after the body, before the next delimiter
        return (headers, body);
    }

    private async Task<string> LineAsync(CancellationToken cancellation)
    {
        var line = new StringBuilder();
        while (true)
        {
            await stream.ReadExactlyAsync(one, cancellation);
            if (one[0] == '\n') break;
            line.Append((char)one[0]);
            Assert.True(line.Length < 1000, "a part header line longer than 1000 bytes");
        }
        Assert.True(line.Length > 0 && line[^1] == '\r', $"line '{line}' does not end in CRLF");
        return line.ToString(0, line.Length - 1);
    }
}
