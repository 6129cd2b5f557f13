using System.Globalization;
using System.Net;

namespace ULlava.Perception.Web;

/// <summary>
/// Where one of the node's HTTP endpoints listens, parsed from a URL setting such as
/// <c>--metrics http://127.0.0.1:9464/metrics</c>. The host must be an IP address or <c>localhost</c> (Kestrel binds
/// addresses, and a name that resolves elsewhere would expose the node by accident); port 0 picks a free port.
/// Defaults are loopback: another address is used only when the URL names it.
/// </summary>
public sealed record ListenUrl(IPAddress Address, int Port, string Path)
{
    /// <param name="setting">The option the URL came from ("--metrics"), named in every error.</param>
    /// <param name="defaultPath">The path when the URL has none (or only "/").</param>
    public static ListenUrl Parse(string url, string setting, string defaultPath)
    {
        string expected = $"expected http://HOST:PORT{defaultPath} with HOST an IP address or localhost and PORT 0 to 65535 (0 picks a free port)";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
            throw new ArgumentException($"{setting} '{url}': not a valid http:// URL; {expected}");
        if (!string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
            throw new ArgumentException($"{setting} '{url}': no user, query or fragment allowed; {expected}");
        IPAddress address;
        if (uri.IsLoopback && uri.HostNameType == UriHostNameType.Dns) address = IPAddress.Loopback; // "localhost"
        else if (!IPAddress.TryParse(uri.Host.Trim('[', ']'), out address!))
            throw new ArgumentException($"{setting} '{url}': host '{uri.Host}' is not an IP address; {expected}");
        // Uri fills in 80 for http when no port is written; a port must be explicit so nobody binds 80 by accident.
        if (!HasExplicitPort(url, uri)) throw new ArgumentException($"{setting} '{url}': no port; {expected}");
        string path = uri.AbsolutePath is "" or "/" ? defaultPath : uri.AbsolutePath;
        return new ListenUrl(address, uri.Port, path);
    }

    public bool IsLoopback => IPAddress.IsLoopback(Address);

    /// <summary>The URL with the port actually bound (port 0 resolved).</summary>
    public string ToUrl(int boundPort)
    {
        string host = Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString();
        return $"http://{host}:{boundPort.ToString(CultureInfo.InvariantCulture)}{Path}";
    }

    private static bool HasExplicitPort(string url, Uri uri)
    {
        if (!uri.IsDefaultPort) return true;
        // "http://h:80/" is explicit too: look for ":80" after the host in the original text.
        string afterScheme = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..];
        string authority = afterScheme.Split('/')[0];
        return authority.EndsWith(":80", StringComparison.Ordinal);
    }
}
