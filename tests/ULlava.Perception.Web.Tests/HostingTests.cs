using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ULlava.Perception.Web.Tests;

/// <summary>Both servers as hosted services of the generic host, as the node's service mode registers them.</summary>
public sealed class HostingTests
{
    [Fact]
    public async Task TheHostStartsBothAndItsStopEndsOpenStreamsAndFreesThePorts()
    {
        await using var running = new RunningNode();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(running.Node);
        builder.Services.AddSingleton(sp => new MetricsServer(sp.GetRequiredService<Node.Pipeline.PerceptionNode>(), "http://127.0.0.1:0/metrics"));
        builder.Services.AddSingleton(sp => new PreviewServer(sp.GetRequiredService<Node.Pipeline.PerceptionNode>(), "http://127.0.0.1:0/"));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MetricsServer>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PreviewServer>());
        using var host = builder.Build();
        await host.StartAsync();
        var metrics = host.Services.GetRequiredService<MetricsServer>();
        var preview = host.Services.GetRequiredService<PreviewServer>();
        int[] ports = [new Uri(metrics.Url!).Port, new Uri(preview.Url!).Port];

        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        Assert.Contains("ullava_model_state{state=\"loaded\"} 1", await http.GetStringAsync(metrics.Url));
        // A client waiting on the stream (the node has no frame yet): the host's stop must not wait for it.
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60)); // the headers come before any frame
        var response = await http.GetAsync(preview.StreamUrl, HttpCompletionOption.ResponseHeadersRead, limit.Token);
        var body = await response.Content.ReadAsStreamAsync();
        var reading = body.ReadAsync(new byte[1]).AsTask();
        await running.WaitForAsync(() => preview.Clients == 1, "the stream client");

        await host.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, await reading.WaitAsync(TimeSpan.FromSeconds(60))); // the stream ended (end of body)
        response.Dispose();
        Assert.Null(metrics.Url); // stopped servers report no URL...
        Assert.Null(preview.Url);
        foreach (int port in ports)
        {
            using var probe = new TcpClient();
            var e = await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, port));
            Assert.Equal(SocketError.ConnectionRefused, e.SocketErrorCode); // ...and nothing listens on their ports
        }
    }
}
