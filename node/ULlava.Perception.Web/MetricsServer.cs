using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ULlava.Perception.Node.Pipeline;

namespace ULlava.Perception.Web;

/// <summary>
/// The node's Prometheus endpoint (<c>--metrics URL</c>, default <see cref="DefaultUrl"/>): GET on the URL's path
/// returns the text exposition format. Register it as a hosted service or call <see cref="StartAsync"/> yourself.
/// </summary>
public sealed class MetricsServer : IHostedService, IAsyncDisposable
{
    public const string Setting = "--metrics";
    public const string DefaultUrl = "http://127.0.0.1:9464/metrics";

    private readonly string url;
    private readonly ListenUrl listen;
    private readonly ILogger logger;
    private WebApplication? app;

    /// <param name="logger">Gets one line with the bound URL.</param>
    /// <exception cref="ArgumentException">The URL is not http://IP-or-localhost:PORT/PATH (the message names <see cref="Setting"/>).</exception>
    public MetricsServer(PerceptionNode node, string url = DefaultUrl, ILogger? logger = null)
    {
        this.url = url;
        this.logger = logger ?? NullLogger.Instance;
        listen = ListenUrl.Parse(url, Setting, "/metrics");
        Metrics = new NodeMetrics(node);
    }

    public NodeMetrics Metrics { get; }

    /// <summary>The bound URL while started (port 0 resolved), else null.</summary>
    public string? Url { get; private set; }

    /// <summary>Binds and starts serving; returns the bound URL. A port in use fails here, naming <see cref="Setting"/>.</summary>
    public async Task<string> StartAsync(CancellationToken cancellation)
    {
        if (app is not null) throw new InvalidOperationException($"{Setting}: already started on {Url}");
        (app, Url) = await LoopbackWebHost.StartAsync(listen, Setting, url, web =>
        {
            web.MapGet(listen.Path, async (HttpContext context) =>
            {
                context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                context.Response.Headers.CacheControl = "no-store";
                await Metrics.Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
            });
        }, cancellation).ConfigureAwait(false);
        logger.LogInformation("metrics on {Url}", Url);
        return Url;
    }

    Task IHostedService.StartAsync(CancellationToken cancellationToken) => StartAsync(cancellationToken);

    public async Task StopAsync(CancellationToken cancellation)
    {
        var running = Interlocked.Exchange(ref app, null);
        if (running is null) return;
        Url = null;
        await running.StopAsync(cancellation).ConfigureAwait(false);
        await running.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        Metrics.Dispose();
    }
}
