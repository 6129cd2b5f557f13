using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace ULlava.Perception.Web;

/// <summary>
/// A bare Kestrel with minimal-API routes on one address: no configuration files, no environment variables, no
/// logging providers (the node's host logs), so nothing outside the given URL changes where it listens.
/// </summary>
internal static class LoopbackWebHost
{
    /// <summary>Starts the app; returns it and the URL it is bound to (port 0 resolved). Bind errors name the setting.</summary>
    public static async Task<(WebApplication App, string Url)> StartAsync(ListenUrl listen, string setting, string url,
                                                                          Action<WebApplication> mapRoutes, CancellationToken cancellation)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(new IPEndPoint(listen.Address, listen.Port));
        });
        builder.Services.AddRoutingCore();
        var app = builder.Build();
        mapRoutes(app);
        try
        {
            await app.StartAsync(cancellation).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or UnauthorizedAccessException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            string why = e.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || e is IOException && e.Message.Contains("in use", StringComparison.OrdinalIgnoreCase)
                ? $"port {listen.Port} on {listen.Address} is in use; expected a free port (0 picks one)"
                : $"cannot listen on {listen.Address}:{listen.Port} ({e.Message}); expected an address of this machine and a port it may bind";
            throw new IOException($"{setting} '{url}': {why}", e);
        }
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        var bound = addresses?.Select(a => new Uri(a)).FirstOrDefault()
                    ?? throw new InvalidOperationException($"{setting} '{url}': Kestrel reported no bound address");
        return (app, listen.ToUrl(bound.Port));
    }
}
