using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace ULlava.Perception.Web.Tests;

/// <summary>The Prometheus endpoint over real HTTP, on a real node running the fixture model on the sample video.</summary>
public sealed class MetricsServerTests(ITestOutputHelper log)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private static async Task<PrometheusText> ScrapeAsync(string url)
    {
        using var response = await Http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return new PrometheusText(await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AScrapeOfARunningNodeHasEveryFamilyAndItsCountersMove()
    {
        await using var running = new RunningNode();
        await using var server = new MetricsServer(running.Node, "http://127.0.0.1:0/metrics");
        string url = await server.StartAsync(CancellationToken.None);
        Assert.Matches(@"^http://127\.0\.0\.1:\d+/metrics$", url);
        Assert.DoesNotContain(":0/", url);

        var before = await ScrapeAsync(url);
        Assert.Equal(1, before.Value("ullava_model_state", "state=loaded")); // created, not running yet
        Assert.Equal(0, before.Value("ullava_model_state", "state=running"));

        running.Start();
        // fps is a rate over the last 3 s: it shows once two frames have finished close enough together.
        PrometheusText? moving = null;
        await running.WaitForAsync(async () =>
        {
            moving = await ScrapeAsync(url);
            return moving.Value("ullava_frames_processed_total") >= 3 && moving.Value("ullava_fps_out") > 0;
        }, "three processed frames and a non-zero fps_out in a scrape", TimeSpan.FromMilliseconds(250));
        var after = moving!;

        foreach (var (family, type) in new[]
                 {
                     ("ullava_source_fps_in", "gauge"), ("ullava_source_fps_sampled", "gauge"), ("ullava_fps_out", "gauge"),
                     ("ullava_source_frames_in_total", "counter"), ("ullava_frames_processed_total", "counter"),
                     ("ullava_source_frames_dropped_total", "counter"), ("ullava_publish_dropped_total", "counter"),
                     ("ullava_results_published_total", "counter"), ("ullava_source_reconnects_total", "counter"),
                     ("ullava_source_queue_depth", "gauge"), ("ullava_source_state", "gauge"),
                     ("ullava_frame_latency_seconds", "histogram"), ("ullava_frame_latency_recent_seconds", "gauge"),
                     ("ullava_model_state", "gauge"), ("ullava_model_info", "gauge"), ("ullava_standing_instructions", "gauge"),
                     ("process_working_set_bytes", "gauge"), ("dotnet_total_memory_bytes", "gauge"), ("process_cpu_seconds_total", "counter"),
                 })
            Assert.True(after.Types.TryGetValue(family, out var t) && t == type, $"family {family} ({type}) missing or of type {t}");

        Assert.True(after.Value("ullava_source_frames_in_total", "stream=cam0") >= 3);
        Assert.True(after.Value("ullava_source_fps_in", "stream=cam0") > 0);
        Assert.True(after.Value("ullava_results_published_total") > 0);
        // Every processed frame is one latency observation; the histogram's count keeps up with the counter.
        double processed = after.Value("ullava_frames_processed_total");
        double observed = after.Value("ullava_frame_latency_seconds_count");
        Assert.InRange(observed, processed - 1, processed + 1); // a frame may finish between the two reads of one scrape
        Assert.True(after.Value("ullava_frame_latency_seconds_sum") > 0);
        Assert.Equal(observed, after.Value("ullava_frame_latency_seconds_bucket", "le=+Inf"));
        Assert.True(after.Value("ullava_frame_latency_recent_seconds", "quantile=0.95") >= after.Value("ullava_frame_latency_recent_seconds", "quantile=0.5"));
        Assert.True(after.Value("ullava_frame_latency_recent_seconds", "quantile=0.5") > 0);
        // A file source never drops or reconnects; its queue is bounded (lossless channel of 4).
        Assert.Equal(0, after.Value("ullava_source_frames_dropped_total", "stream=cam0"));
        Assert.Equal(0, after.Value("ullava_source_reconnects_total", "stream=cam0"));
        Assert.InRange(after.Value("ullava_source_queue_depth", "stream=cam0"), 0, 4);
        Assert.Equal(1, after.Value("ullava_source_state", "stream=cam0", "state=streaming"));
        Assert.Equal(0, after.Value("ullava_source_state", "stream=cam0", "state=failed"));
        Assert.Equal(640, after.Value("ullava_source_frame_width_pixels", "stream=cam0"));
        Assert.Equal(1, after.Value("ullava_model_state", "state=running"));
        Assert.Equal(1, after.Value("ullava_standing_instructions"));
        var info = Assert.Single(after.Samples, s => s.Name == "ullava_model_info");
        Assert.StartsWith("ullava-tiny sha256:", info.Labels["model"]);
        Assert.Equal("web-test", info.Labels["node_id"]);
        Assert.True(after.Value("process_working_set_bytes") > 0);
        Assert.True(after.Value("dotnet_total_memory_bytes") > 0);

        // Counters keep moving between scrapes.
        running.Node.Instructions.Add(new Node.Instructions.StandingInstruction("cap-1",
            new Core.Inference.InstructionRequest("Describe the image.", Core.Inference.InstructionKind.Caption)));
        await running.WaitForAsync(() => running.Node.FramesProcessed >= processed + 2, "two more frames");
        var later = await ScrapeAsync(url);
        foreach (var sample in later.Samples.Where(s => s.Name.StartsWith("ullava_", StringComparison.Ordinal) && !s.Name.Contains("_bucket", StringComparison.Ordinal)))
            log.WriteLine($"{sample.Name}{{{string.Join(",", sample.Labels.Select(l => $"{l.Key}={l.Value}"))}}} {sample.Value}");
        Assert.True(later.Value("ullava_frames_processed_total") > processed);
        Assert.True(later.Value("ullava_source_frames_in_total", "stream=cam0") > after.Value("ullava_source_frames_in_total", "stream=cam0"));
        Assert.True(later.Value("ullava_frame_latency_seconds_count") > observed);
        Assert.Equal(2, later.Value("ullava_standing_instructions"));

        running.Node.Paused = true;
        Assert.Equal(1, (await ScrapeAsync(url)).Value("ullava_model_state", "state=paused"));
    }

    [Fact]
    public async Task TwoNodesInOneProcessKeepTheirOwnSeries()
    {
        await using var first = new RunningNode("first");
        await using var second = new RunningNode("second");
        await using var a = new MetricsServer(first.Node, "http://127.0.0.1:0/metrics");
        await using var b = new MetricsServer(second.Node, "http://localhost:0/custom/path");
        string urlA = await a.StartAsync(CancellationToken.None);
        string urlB = await b.StartAsync(CancellationToken.None);
        Assert.EndsWith("/custom/path", urlB);
        Assert.NotSame(a.Metrics.Registry, b.Metrics.Registry);
        Assert.Equal("first", Assert.Single((await ScrapeAsync(urlA)).Samples, s => s.Name == "ullava_model_info").Labels["node_id"]);
        Assert.Equal("second", Assert.Single((await ScrapeAsync(urlB)).Samples, s => s.Name == "ullava_model_info").Labels["node_id"]);
        // Only the configured path answers.
        using var other = await Http.GetAsync(urlB.Replace("/custom/path", "/metrics", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }

    [Theory]
    [InlineData("https://127.0.0.1:9464/metrics", "not a valid http:// URL")]
    [InlineData("127.0.0.1:9464", "not a valid http:// URL")]
    [InlineData("http://example.org:9464/metrics", "not an IP address")]
    [InlineData("http://127.0.0.1/metrics", "no port")]
    [InlineData("http://127.0.0.1:99999/metrics", "not a valid http:// URL")]
    [InlineData("http://user@127.0.0.1:9464/metrics", "no user")]
    public async Task ABadUrlIsRefusedNamingTheSettingAndWhatIsExpected(string url, string why)
    {
        await using var running = new RunningNode();
        var e = Assert.Throws<ArgumentException>(() => new MetricsServer(running.Node, url));
        Assert.StartsWith($"--metrics '{url}': ", e.Message);
        Assert.Contains(why, e.Message);
        Assert.Contains("expected http://HOST:PORT/metrics", e.Message);
    }

    [Fact]
    public void LoopbackIsTheDefaultAndAnotherAddressOnlyWhenGiven()
    {
        Assert.True(ListenUrl.Parse(MetricsServer.DefaultUrl, MetricsServer.Setting, "/metrics").IsLoopback);
        Assert.True(ListenUrl.Parse(PreviewServer.DefaultUrl, PreviewServer.Setting, "/").IsLoopback);
        var any = ListenUrl.Parse("http://0.0.0.0:9464/metrics", MetricsServer.Setting, "/metrics");
        Assert.False(any.IsLoopback);
        Assert.Equal(IPAddress.Any, any.Address);
        Assert.Equal(IPAddress.IPv6Loopback, ListenUrl.Parse("http://[::1]:0/", PreviewServer.Setting, "/").Address);
        Assert.Equal("/metrics", ListenUrl.Parse("http://127.0.0.1:9464", MetricsServer.Setting, "/metrics").Path);
    }

    [Fact]
    public async Task APortInUseIsReportedNamingTheSetting()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        await using var running = new RunningNode();
        await using var server = new MetricsServer(running.Node, $"http://127.0.0.1:{port}/metrics");
        var e = await Assert.ThrowsAsync<IOException>(() => server.StartAsync(CancellationToken.None));
        Assert.Equal($"--metrics 'http://127.0.0.1:{port}/metrics': port {port} on 127.0.0.1 is in use; expected a free port (0 picks one)", e.Message);
        await using var preview = new PreviewServer(running.Node, $"http://127.0.0.1:{port}/");
        var p = await Assert.ThrowsAsync<IOException>(() => preview.StartAsync(CancellationToken.None));
        Assert.StartsWith($"--preview 'http://127.0.0.1:{port}/': port {port} on 127.0.0.1 is in use", p.Message);
    }
}
