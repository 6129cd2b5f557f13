using Prometheus;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Node.Pipeline;

namespace ULlava.Perception.Web;

/// <summary>
/// The node's Prometheus metrics in a registry of their own (several nodes, or tests, in one process never share
/// series). Almost everything is read from <see cref="PerceptionNode.BuildStatus"/> just before each scrape, so the
/// pipeline carries no extra counters; the per-frame latency histogram is fed by <see cref="PerceptionNode.FrameProcessed"/>
/// (one Observe on the model thread, lock-free in prometheus-net).
/// </summary>
public sealed class NodeMetrics : IDisposable
{
    private static readonly string[] StateNames = Enum.GetValues<SourceState>().Where(s => s != SourceState.Unspecified)
        .Select(StateName).ToArray();

    private readonly PerceptionNode node;
    private readonly Histogram latency;
    private readonly Gauge fpsIn, fpsSampled, fpsOut, queueDepth, sourceState, latencyRecent, uptime, instructions, modelState, modelInfo,
                          recordingActive, recordingBytes, frameWidth, frameHeight;
    private readonly Counter framesIn, framesDropped, reconnects, framesProcessed, resultsPublished, publishDropped;
    private int disposed;

    public NodeMetrics(PerceptionNode node)
    {
        this.node = node;
        Registry = Metrics.NewCustomRegistry();
        var f = Metrics.WithCustomRegistry(Registry);
        string[] stream = ["stream"];
        fpsIn = f.CreateGauge("ullava_source_fps_in", "Frames per second read from the source (last 3 s).", stream);
        fpsSampled = f.CreateGauge("ullava_source_fps_sampled", "Frames per second passed on to the model (last 3 s).", stream);
        framesIn = f.CreateCounter("ullava_source_frames_in_total", "Frames read from the source.", stream);
        framesDropped = f.CreateCounter("ullava_source_frames_dropped_total", "Frames replaced in the latest-frame channel before the model took them.", stream);
        reconnects = f.CreateCounter("ullava_source_reconnects_total", "Reconnect attempts of the source (network streams).", stream);
        queueDepth = f.CreateGauge("ullava_source_queue_depth", "Frames waiting in the source's channel to the model.", stream);
        frameWidth = f.CreateGauge("ullava_source_frame_width_pixels", "Width of the source's frames.", stream);
        frameHeight = f.CreateGauge("ullava_source_frame_height_pixels", "Height of the source's frames.", stream);
        sourceState = f.CreateGauge("ullava_source_state", "1 for the source's current state, 0 for the others.", "stream", "state");
        fpsOut = f.CreateGauge("ullava_fps_out", "Frames per second the model finished (last 3 s).");
        framesProcessed = f.CreateCounter("ullava_frames_processed_total", "Frames the model finished.");
        resultsPublished = f.CreateCounter("ullava_results_published_total", "Messages handed to the publish socket.");
        publishDropped = f.CreateCounter("ullava_publish_dropped_total", "Messages the publisher discarded (a slow subscriber's high-water mark).");
        latency = f.CreateHistogram("ullava_frame_latency_seconds", "Per processed frame: from the model taking it to its last result.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.005, 1.6, 18) }); // 5 ms .. ~14 s
        latencyRecent = f.CreateGauge("ullava_frame_latency_recent_seconds", "Latency quantiles over the last 200 processed frames (the status's p50/p95).", "quantile");
        uptime = f.CreateGauge("ullava_uptime_seconds", "Seconds since the node was created.");
        instructions = f.CreateGauge("ullava_standing_instructions", "Standing instructions in force.");
        modelState = f.CreateGauge("ullava_model_state", "1 for the model's current state: loaded (its thread not running), running, paused.", "state");
        modelInfo = f.CreateGauge("ullava_model_info", "Always 1; the labels describe the model and the node.", "model", "node_id");
        recordingActive = f.CreateGauge("ullava_recording_active", "1 while recording.");
        recordingBytes = f.CreateGauge("ullava_recording_bytes_written", "Bytes written by the current or last recording.");
        // Process memory and CPU under the usual names (process_working_set_bytes, dotnet_total_memory_bytes,
        // process_cpu_seconds_total, ...). GPU memory is absent: TorchSharp 0.107's torch.cuda has no memory query.
        DotNetStats.Register(Registry);
        Registry.AddBeforeCollectCallback(Update);
        node.FrameProcessed += OnFrameProcessed;
    }

    public CollectorRegistry Registry { get; }

    private void OnFrameProcessed(ProcessedFrame frame) => latency.Observe(frame.LatencyMs / 1000.0);

    /// <summary>Copies one status snapshot into the gauges and counters (called by the registry before each collection).</summary>
    private void Update()
    {
        var status = node.BuildStatus();
        foreach (var source in status.Sources)
        {
            string id = source.StreamId;
            fpsIn.WithLabels(id).Set(source.FpsIn);
            fpsSampled.WithLabels(id).Set(source.FpsSampled);
            framesIn.WithLabels(id).IncTo(source.FramesIn);
            framesDropped.WithLabels(id).IncTo(source.FramesDropped);
            reconnects.WithLabels(id).IncTo(source.Reconnects);
            queueDepth.WithLabels(id).Set(status.QueueDepths.TryGetValue(id, out uint depth) ? depth : 0);
            frameWidth.WithLabels(id).Set(source.Width);
            frameHeight.WithLabels(id).Set(source.Height);
            string current = StateName(source.State);
            foreach (string state in StateNames) sourceState.WithLabels(id, state).Set(state == current ? 1 : 0);
        }
        fpsOut.Set(status.FpsOut);
        framesProcessed.IncTo(node.FramesProcessed);
        resultsPublished.IncTo(status.ResultsPublished);
        publishDropped.IncTo(status.PublishDropped);
        latencyRecent.WithLabels("0.5").Set(status.LatencyP50Ms / 1000.0);
        latencyRecent.WithLabels("0.95").Set(status.LatencyP95Ms / 1000.0);
        uptime.Set(status.UptimeS);
        instructions.Set(status.StandingInstructions);
        string model = !node.ModelBusy ? "loaded" : status.Paused ? "paused" : "running";
        foreach (string state in new[] { "loaded", "running", "paused" }) modelState.WithLabels(state).Set(state == model ? 1 : 0);
        modelInfo.WithLabels(status.Model, status.NodeId).Set(1);
        recordingActive.Set(status.Recording?.Active == true ? 1 : 0);
        recordingBytes.Set(status.Recording?.BytesWritten ?? 0);
    }

    /// <summary>SourceState.Streaming → "streaming".</summary>
    private static string StateName(SourceState state) => state.ToString().ToLowerInvariant();

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0) node.FrameProcessed -= OnFrameProcessed;
    }
}
