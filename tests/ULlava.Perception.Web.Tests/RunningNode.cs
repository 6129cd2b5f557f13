using ULlava.Perception.Capture;
using ULlava.Perception.Core.Inference;
using ULlava.Perception.Model.Inference;
using ULlava.Perception.Node.Hosting;
using ULlava.Perception.Node.Instructions;
using ULlava.Perception.Node.Pipeline;

namespace ULlava.Perception.Web.Tests;

/// <summary>A real node: the bundled sample video through OpenCV (looped), the bundled fixture model, one standing segment instruction.</summary>
internal sealed class RunningNode : IAsyncDisposable
{
    // One engine for the whole run (loading costs seconds); the tests run one at a time, so one node uses it at once.
    private static readonly Lazy<ULlavaEngine> Engine = new(() =>
        ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = Path.Combine(AppContext.BaseDirectory, "assets", "models", "ullava-tiny") }));

    public static string SampleVideo => Path.Combine(AppContext.BaseDirectory, "assets", "sample-shapes.mp4");

    private readonly CancellationTokenSource stop = new();
    private Task<int>? run;

    /// <param name="segment">Without the instruction no frame needs the model, so frames pass at decoding speed.</param>
    public RunningNode(string nodeId = "web-test", bool segment = true)
    {
        var options = new NodeOptions
        {
            Sources = [new SourceSpec("cam0", SampleVideo)],
            Instructions = segment ? [new StandingInstruction("seg-1", new InstructionRequest("Please segment and locate the red circle in this image.", InstructionKind.Segment))] : [],
            PublishEndpoint = "tcp://127.0.0.1:0",
            CommandEndpoint = null,
            PrintFrames = false,
            NodeId = nodeId,
            Loop = true,
        };
        Node = new PerceptionNode(options, Engine.Value, spec => new VideoCaptureSource(spec.StreamId, spec.Uri, loop: true), TextWriter.Null);
    }

    public PerceptionNode Node { get; }

    public void Start() => run = Node.RunAsync(stop.Token);

    /// <summary>Polls <paramref name="condition"/> until it holds (90 s at most); the node ending ends the wait too.</summary>
    public Task WaitForAsync(Func<bool> condition, string what) => WaitForAsync(() => Task.FromResult(condition()), what, TimeSpan.FromMilliseconds(50));

    public async Task WaitForAsync(Func<Task<bool>> condition, string what, TimeSpan every)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!await condition())
        {
            if (run is { IsCompleted: true }) throw new InvalidOperationException($"the node ended ({await run}) while waiting for {what}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited 90 s for {what}");
            await Task.Delay(every);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        if (run is not null) Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(60)));
        stop.Dispose();
    }
}
