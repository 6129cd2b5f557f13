using System.Diagnostics;
using ULlava.Perception.Core.Frames;
using ULlava.Perception.Core.Inference;
using ULlava.Perception.Core.Pipeline;
using ULlava.Perception.Messages;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Node.Hosting;
using ULlava.Perception.Node.Instructions;
using ULlava.Perception.Node.Results;
using ULlava.Perception.Transport;

namespace ULlava.Perception.Node.Pipeline;

/// <summary>
/// The node: sources → (channel per source) → the model thread (sample, encode once, run the instructions due,
/// build results) → publisher. The model thread is the only one that touches the engine and its tensors.
/// Ends when every source has ended (files) and everything accepted has been processed, or when cancelled.
/// </summary>
public sealed class PerceptionNode
{
    private readonly NodeOptions options;
    private readonly IInferenceEngine engine;
    private readonly Func<SourceSpec, IFrameSource> sourceFactory;
    private readonly TextWriter output;
    private readonly List<StreamPipe> pipes = new();
    private readonly RateMeter outRate = new();
    private readonly Stopwatch uptime = Stopwatch.StartNew();
    private readonly TaskCompletionSource<string> publishEndpoint = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<double> recentLatencies = new();
    private long framesProcessed;

    public PerceptionNode(NodeOptions options, IInferenceEngine engine, Func<SourceSpec, IFrameSource> sourceFactory, TextWriter output)
    {
        options.Validate();
        this.options = options;
        this.engine = engine;
        this.sourceFactory = sourceFactory;
        this.output = output;
    }

    /// <summary>The bound publish endpoint, once the node has started (tests bind port 0).</summary>
    public Task<string> PublishEndpoint => publishEndpoint.Task;

    public long FramesProcessed => Interlocked.Read(ref framesProcessed);

    /// <summary>Runs until the sources end or <paramref name="cancellation"/> fires; 0 on success, 1 if a source failed.</summary>
    public async Task<int> RunAsync(CancellationToken cancellation)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using var publisher = new ResultPublisher(options.PublishEndpoint);
        publishEndpoint.TrySetResult(publisher.Endpoint);

        foreach (var spec in options.Sources)
            pipes.Add(new StreamPipe(sourceFactory(spec), new FrameSampler(options.MaxFps, options.EveryNFrames)));
        foreach (var pipe in pipes) pipe.CaptureTask = Task.Run(() => CaptureAsync(pipe, stop.Token), CancellationToken.None);

        var modelDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var modelThread = new Thread(() =>
        {
            try
            {
                ModelLoop(publisher, stop);
                modelDone.SetResult();
            }
            catch (Exception e)
            {
                modelDone.SetException(e);
            }
        }) { Name = "model", IsBackground = true };
        modelThread.Start();

        var status = Task.Run(() => StatusLoopAsync(publisher, stop.Token), CancellationToken.None);
        try
        {
            await modelDone.Task.ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(pipes.Select(p => p.CaptureTask!).Append(status)).ConfigureAwait(false);
            publisher.Publish(Topics.Status, BuildStatus(publisher));
            foreach (var pipe in pipes) await pipe.Source.DisposeAsync().ConfigureAwait(false);
        }
        return pipes.Any(p => p.Source.State == Core.Frames.SourceState.Failed) ? 1 : 0;
    }

    private async Task CaptureAsync(StreamPipe pipe, CancellationToken cancellation)
    {
        try
        {
            await pipe.Source.RunAsync(pipe.Accept, cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"source {pipe.Source.StreamId} ({pipe.Source.Uri}): {e.Message}").ConfigureAwait(false);
        }
        finally
        {
            pipe.Channel.Complete();
        }
    }

    private void ModelLoop(ResultPublisher publisher, CancellationTokenSource stop)
    {
        while (!stop.IsCancellationRequested)
        {
            bool any = false;
            foreach (var pipe in pipes)
            {
                if (!pipe.Channel.Reader.TryRead(out var frame)) continue;
                any = true;
                if (!pipe.Sampler.Take(frame.Stamp.CaptureTimeUnixNs)) continue;
                pipe.CountSampled();
                ProcessFrame(frame, publisher);
                if (options.MaxFrames > 0 && FramesProcessed >= options.MaxFrames) return;
            }
            if (any) continue;
            var open = pipes.Where(p => !p.Channel.Reader.Completion.IsCompleted).ToList();
            if (open.Count == 0) return; // every source ended and every accepted frame was processed
            try
            {
                Task.WaitAny(open.Select(p => p.Channel.Reader.WaitToReadAsync(stop.Token).AsTask()).ToArray(), stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void ProcessFrame(Frame frame, ResultPublisher publisher)
    {
        var started = Stopwatch.GetTimestamp();
        var due = options.Instructions.Where(i => i.IsDue(frame.Stamp)).ToList();
        var results = new List<InstructionResult>(due.Count);
        if (due.Count > 0)
        {
            using var encoded = engine.Encode(frame);
            foreach (var instruction in due)
                results.Add(RunInstruction(frame, encoded, instruction, publisher, started));
        }
        double frameMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        Interlocked.Increment(ref framesProcessed);
        outRate.Tick();
        lock (recentLatencies)
        {
            recentLatencies.Add(frameMs);
            if (recentLatencies.Count > 200) recentLatencies.RemoveAt(0);
        }
        if (options.PrintFrames) output.WriteLine(FrameReport.Line(ResultBuilder.Header(frame.Stamp), results, frameMs));
    }

    private InstructionResult RunInstruction(Frame frame, IEncodedFrame encoded, StandingInstruction instruction, ResultPublisher publisher, long started)
    {
        string stream = frame.Stamp.StreamId;
        var header = ResultBuilder.Header(frame.Stamp);
        uint pieceIndex = 0;
        string soFar = "";
        InstructionResult result;
        try
        {
            var answer = engine.Run(encoded, instruction.Request, piece =>
            {
                soFar += piece;
                publisher.Publish(Topics.Text(stream), new TextUpdate { Header = header, InstructionId = instruction.Id, Piece = piece, PieceIndex = pieceIndex++, Text = soFar });
            });
            result = ResultBuilder.Build(frame.Stamp, frame.Width, frame.Height, instruction.Id, instruction.Request, answer,
                                         Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // One failing instruction never takes the node down; the error travels with the result.
            result = new InstructionResult { Header = header, InstructionId = instruction.Id, Instruction = instruction.Request.Text, Error = e.Message };
        }
        publisher.Publish(Topics.Results(stream), result);
        if (result.Masks.Count > 0) publisher.Publish(Topics.Masks(stream), ResultBuilder.MaskSet(result));
        if (result.Boxes.Count > 0) publisher.Publish(Topics.Boxes(stream), ResultBuilder.BoxSet(result));
        publisher.Publish(Topics.Text(stream), new TextUpdate { Header = header, InstructionId = instruction.Id, Text = result.Text, PieceIndex = pieceIndex, Final = true });
        return result;
    }

    private async Task StatusLoopAsync(ResultPublisher publisher, CancellationToken cancellation)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.StatusIntervalSeconds));
        try
        {
            do publisher.Publish(Topics.Status, BuildStatus(publisher));
            while (await timer.WaitForNextTickAsync(cancellation).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private NodeStatus BuildStatus(ResultPublisher publisher)
    {
        var status = new NodeStatus
        {
            NodeId = options.NodeId,
            TimeUnixNs = UnixClock.NowNs(),
            UptimeS = uptime.Elapsed.TotalSeconds,
            Model = engine.Description,
            FpsOut = outRate.PerSecond,
            ResultsPublished = (ulong)publisher.Published,
            PublishDropped = (ulong)publisher.Dropped,
            StandingInstructions = (uint)options.Instructions.Count,
            Memory = new MemoryStatus
            {
                WorkingSetBytes = (ulong)Environment.WorkingSet,
                ManagedBytes = (ulong)GC.GetTotalMemory(false),
            },
        };
        foreach (var pipe in pipes)
        {
            status.Sources.Add(new SourceStatus
            {
                StreamId = pipe.Source.StreamId,
                Uri = pipe.Source.Uri,
                State = (Messages.V1.SourceState)(int)pipe.Source.State,
                FpsIn = pipe.InRate.PerSecond,
                FpsSampled = pipe.SampledRate.PerSecond,
                FramesIn = (ulong)pipe.FramesIn,
                FramesDropped = (ulong)pipe.Channel.Dropped,
                LastError = pipe.Source.LastError ?? "",
                Width = (uint)pipe.Width,
                Height = (uint)pipe.Height,
            });
            status.QueueDepths[pipe.Source.StreamId] = (uint)pipe.Channel.Count;
        }
        double[] latencies;
        lock (recentLatencies) latencies = recentLatencies.Order().ToArray();
        if (latencies.Length > 0)
        {
            status.LatencyP50Ms = latencies[latencies.Length / 2];
            status.LatencyP95Ms = latencies[Math.Min(latencies.Length - 1, (int)(latencies.Length * 0.95))];
        }
        return status;
    }
}
