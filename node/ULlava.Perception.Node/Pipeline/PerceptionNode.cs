using System.Diagnostics;
using Google.Protobuf;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ULlava.Perception.Core.Frames;
using ULlava.Perception.Core.Inference;
using ULlava.Perception.Core.Pipeline;
using ULlava.Perception.Core.Results;
using ULlava.Perception.Core.Tracking;
using ULlava.Perception.Messages;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Node.Commands;
using ULlava.Perception.Node.Hosting;
using ULlava.Perception.Node.Instructions;
using ULlava.Perception.Node.Results;
using ULlava.Perception.Transport;
using ULlava.Perception.Recording.Session;
using ULlava.Perception.Node.Replay;

namespace ULlava.Perception.Node.Pipeline;

/// <summary>
/// The node: sources → (channel per source) → the model thread (sample, encode once, run the instructions due,
/// build results) → publisher. The model thread is the only one that touches the engine and its tensors;
/// commands reach it as work items (<see cref="OnModelThread{T}"/>). Ends when every source has ended (files)
/// and everything accepted has been processed, or when cancelled.
/// </summary>
public sealed class PerceptionNode
{
    private readonly NodeOptions options;
    private readonly IInferenceEngine engine;
    private readonly Func<SourceSpec, IFrameSource> sourceFactory;
    private readonly TextWriter output;
    private readonly ILogger logger;
    private int batchFailureLogged;
    private readonly List<StreamPipe> pipes = new();
    private readonly Channel<Action> modelWork = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly RateMeter outRate = new();
    private readonly Stopwatch uptime = Stopwatch.StartNew();
    private readonly TaskCompletionSource<string> publishEndpoint = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string?> commandEndpoint = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<double> recentLatencies = new();
    private ResultPublisher? publisher;
    private readonly object recorderGate = new();
    private volatile SessionRecorder? recorder;
    private RecordingSettings? recordingSettings;
    private readonly List<Command> commandsBeforeNextFrame = new(); // model thread only
    // Frames on their way to the recorder's encoder; a flush marker (Frame null) completes once everything before it is written.
    private readonly Channel<(Frame? Frame, SessionRecorder? Recorder, RecordingSettings? Settings, TaskCompletionSource? Flushed)> framesToEncode =
        Channel.CreateBounded<(Frame?, SessionRecorder?, RecordingSettings?, TaskCompletionSource?)>(new BoundedChannelOptions(32) { SingleReader = true });
    private long framesProcessed;
    private volatile bool paused;
    private CancellationToken stopping; // set once by RunAsync before the model thread starts
    private Thread? modelThread;

    /// <param name="output">Where the per-frame lines go (stdout in the CLI) when <see cref="NodeOptions.PrintFrames"/> is set.</param>
    /// <param name="logger">Events worth a log line: sockets bound, sources changing state, failures. Quiet in steady state.</param>
    public PerceptionNode(NodeOptions options, IInferenceEngine engine, Func<SourceSpec, IFrameSource> sourceFactory, TextWriter output, ILogger? logger = null)
    {
        options.Validate();
        this.options = options;
        this.engine = engine;
        this.sourceFactory = sourceFactory;
        this.output = output;
        this.logger = logger ?? NullLogger.Instance;
        Instructions = new InstructionRegistry(options.Instructions);
    }

    /// <summary>Every message as it is published (on the publishing thread): replay compares results with it.</summary>
    public event Action<string, IMessage>? Published;

    /// <summary>
    /// Every processed frame with its results and latency, raised on the model thread right after the frame: handlers
    /// must only take the reference (the preview, the metrics), never work or block there, and must not throw.
    /// </summary>
    public event Action<ProcessedFrame>? FrameProcessed;

    /// <summary>The standing instructions; commands change them while the node runs.</summary>
    public InstructionRegistry Instructions { get; }

    /// <summary>The bound command endpoint (null without a command channel), once the node has started.</summary>
    public Task<string?> CommandEndpoint => commandEndpoint.Task;

    /// <summary>The bound publish endpoint, once the node has started (tests bind port 0).</summary>
    public Task<string> PublishEndpoint => publishEndpoint.Task;

    public long FramesProcessed => Interlocked.Read(ref framesProcessed);

    /// <summary>While paused, frames are read (and counted) but not processed.</summary>
    public bool Paused
    {
        get => paused;
        set => paused = value;
    }

    /// <summary>The engine's description (model, checkpoint hash, device, dtype).</summary>
    public string ModelDescription => engine.Description;

    public IReadOnlyCollection<string> StreamIds => options.Sources.Select(s => s.StreamId).ToList();

    /// <summary>Runs until the sources end or <paramref name="cancellation"/> fires; 0 on success, 1 if a source failed.</summary>
    public async Task<int> RunAsync(CancellationToken cancellation)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        stopping = stop.Token;
        var (pub, commands) = OpenSockets();
        using var ownedPublisher = pub;
        using var ownedCommands = commands;
        publisher = pub;
        if (options.Record is { } record) StartRecording(record);

        foreach (var spec in options.Sources)
            pipes.Add(new StreamPipe(sourceFactory(spec), new FrameSampler(options.MaxFps, options.EveryNFrames), options.HistoryFrames, spec.Camera));
        foreach (var pipe in pipes) pipe.CaptureTask = Task.Run(() => CaptureAsync(pipe, stop.Token), CancellationToken.None);

        var modelDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        modelThread = new Thread(() =>
        {
            try
            {
                try
                {
                    ModelLoop(stop);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    // stopped between two tokens of an answer: that frame's results are not published
                }
                modelDone.SetResult();
            }
            catch (Exception e)
            {
                modelDone.SetException(e);
            }
            finally
            {
                modelWork.Writer.TryComplete();
                RunPendingWork(); // answer what is still queued (with "node is stopping")
                foreach (var pipe in pipes) pipe.ClearHistory();
            }
        }) { Name = "model", IsBackground = true };
        modelThread.Start();

        var status = Task.Run(() => StatusLoopAsync(stop.Token), CancellationToken.None);
        var encoding = Task.Run(EncodeRecordedFramesAsync, CancellationToken.None);
        try
        {
            await WaitForModelThreadAsync(modelDone.Task, stop.Token).ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(pipes.Select(p => p.CaptureTask!).Append(status)).ConfigureAwait(false);
            framesToEncode.Writer.TryComplete();
            await encoding.ConfigureAwait(false); // every frame handed to the recorder before it is stopped
            Emit(Topics.Status, BuildStatus());
            publisher = null; // disposed on return; a frame left in the model publishes nothing more
            foreach (var pipe in pipes) await pipe.Source.DisposeAsync().ConfigureAwait(false);
            lock (recorderGate)
            {
                foreach (var command in commandsBeforeNextFrame) recorder?.RecordCommand(command.ToByteArray(), UnixClock.NowNs());
                recorder?.Stop();
                recorder?.Dispose();
                recorder = null;
            }
        }
        return pipes.Any(p => p.Source.State == Core.Frames.SourceState.Failed) ? 1 : 0;
    }

    /// <summary>
    /// Until the model thread ends on its own (sources ended, an error), or, once a stop is requested, for at most
    /// <see cref="NodeOptions.StopGrace"/>: a frame still in the model after that (a long SAM or a prefill cannot be
    /// interrupted) is left behind, so a service manager's stop never waits on the model. Its results are not published.
    /// </summary>
    private async Task WaitForModelThreadAsync(Task modelDone, CancellationToken stop)
    {
        var stopRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = stop.Register(() => stopRequested.TrySetResult()).ConfigureAwait(false);
        if (await Task.WhenAny(modelDone, stopRequested.Task).ConfigureAwait(false) == modelDone || await Task.WhenAny(modelDone, Task.Delay(options.StopGrace, CancellationToken.None)).ConfigureAwait(false) == modelDone)
        {
            await modelDone.ConfigureAwait(false); // its exception, if any
            return;
        }
        logger.LogWarning("a frame was still in the model {Grace} s after the stop; stopping without its results", options.StopGrace.TotalSeconds);
        _ = modelDone.ContinueWith(t => t.Exception, TaskScheduler.Default); // observed: it ends in the background
    }

    /// <summary>
    /// True while the model thread still runs (after <see cref="RunAsync"/> returned, only when a frame was left
    /// behind at a stop). Disposing the engine then is safe: it frees its weights once that frame's call returns.
    /// </summary>
    public bool ModelBusy => modelThread is { IsAlive: true };

    /// <summary>Publishes a message and, while recording, records it (every published result and status is in the recording).</summary>
    private void Emit(string topic, IMessage message)
    {
        if (publisher is not { } pub) return; // stopped: a frame left in the model publishes nothing
        Published?.Invoke(topic, message);
        pub.Publish(topic, message);
        recorder?.RecordPublished(topic, message, UnixClock.NowNs());
    }

    /// <summary>Starts a recording (replacing none: one at a time). The initial standing instructions go into its metadata for replay.</summary>
    public RecordingStatus StartRecording(RecordingSettings settings)
    {
        settings.Validate();
        lock (recorderGate)
        {
            if (recorder is { State: RecorderState.Recording }) throw new InvalidOperationException($"already recording to {recorder.GetStatus().Path}");
            recorder?.Dispose();
            var started = new SessionRecorder(new RecorderOptions
            {
                Path = settings.Path,
                MaxFileBytes = settings.MaxFileBytes,
                MaxFileDuration = settings.MaxFileDuration,
                NodeConfiguration = options.Description,
                Model = new ModelIdentity(engine.Description, engine.Identity),
            });
            recordingSettings = settings;
            started.RecordMetadata(ReplayMetadata.InstructionsName, ReplayMetadata.Instructions(Instructions.Snapshot));
            foreach (var pipe in pipes.ToList())
                if (pipe.Camera is { } camera) started.RecordCalibration(camera.ToMessage(pipe.Source.StreamId), UnixClock.NowNs());
            recorder = started;
            return started.GetStatus();
        }
    }

    public RecordingStatus StopRecording()
    {
        FlushRecordedFrames();
        lock (recorderGate)
        {
            if (recorder is null) throw new InvalidOperationException("not recording");
            recorder.Stop();
            var status = recorder.GetStatus();
            recorder.Dispose();
            recorder = null;
            return status;
        }
    }

    /// <summary>Records a command that does not change what frames produce (status, list, asks) as received.</summary>
    internal void RecordCommand(Command command) => recorder?.RecordCommand(command.ToByteArray(), UnixClock.NowNs());

    /// <summary>
    /// Applies a command that changes what frames produce (instructions, pause, sampling) on the model thread,
    /// between two frames, and records it just before the next frame the model takes: a replay then applies it
    /// between the same two frames, whatever the timing was live.
    /// </summary>
    internal Task<T> ApplyBetweenFrames<T>(Command command, Func<T> apply) => OnModelThread(() =>
    {
        var result = apply();
        if (recorder is not null) commandsBeforeNextFrame.Add(command);
        return result;
    });

    /// <summary>Binds the publisher and the command server; a failure (e.g. a port in use) is reported to whoever awaits the endpoints too.</summary>
    private (ResultPublisher Publisher, CommandServer? Commands) OpenSockets()
    {
        ResultPublisher? pub = null;
        try
        {
            pub = new ResultPublisher(options.PublishEndpoint, curveServer: options.EncryptResults ? options.Security?.ServerCertificate : null);
            var commands = options.CommandEndpoint is null ? null : new CommandServer(new NodeCommandHandler(this), options.CommandEndpoint, security: options.Security);
            logger.LogInformation("publishing on {Endpoint}", pub.Endpoint);
            if (commands is null) logger.LogInformation("no command channel");
            else logger.LogInformation("commands on {Endpoint}", commands.Endpoint);
            publishEndpoint.TrySetResult(pub.Endpoint);
            commandEndpoint.TrySetResult(commands?.Endpoint);
            return (pub, commands);
        }
        catch (Exception e)
        {
            pub?.Dispose();
            publishEndpoint.TrySetException(e);
            commandEndpoint.TrySetException(e);
            throw;
        }
    }

    /// <summary>Runs <paramref name="work"/> on the model thread (the only one that may touch the engine).</summary>
    public Task<T> OnModelThread<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Run()
        {
            try
            {
                done.SetResult(work());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        }
        if (!modelWork.Writer.TryWrite(Run)) done.SetException(new InvalidOperationException("the node is stopping"));
        return done.Task;
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
            logger.LogError("source {StreamId} ({Uri}) failed: {Error}", pipe.Source.StreamId, pipe.Source.Uri, e.Message);
        }
        finally
        {
            pipe.Channel.Complete();
        }
    }

    private void ModelLoop(CancellationTokenSource stop)
    {
        while (!stop.IsCancellationRequested)
        {
            RunPendingWork();
            bool any = false;
            foreach (var pipe in pipes)
            {
                if (!pipe.Channel.Reader.TryRead(out var frame)) continue;
                any = true;
                if (paused || !pipe.Sampler.Take(frame.Stamp.CaptureTimeUnixNs)) continue;
                pipe.CountSampled();
                RecordFrame(frame);
                ProcessFrame(pipe, frame);
                if (options.MaxFrames > 0 && FramesProcessed >= options.MaxFrames) return;
            }
            if (any) continue;
            var open = pipes.Where(p => !p.Channel.Reader.Completion.IsCompleted).ToList();
            if (open.Count == 0) return; // every source ended and every accepted frame was processed
            try
            {
                var waits = open.Select(p => p.Channel.Reader.WaitToReadAsync(stop.Token).AsTask())
                    .Append(modelWork.Reader.WaitToReadAsync(stop.Token).AsTask()).ToArray();
                Task.WaitAny(waits, stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>The frames the model processes go into the recording, losslessly by default, so a replay sees the same pixels.</summary>
    private void RecordFrame(Frame frame)
    {
        if (recorder is not { } r || recordingSettings is not { } settings)
        {
            commandsBeforeNextFrame.Clear();
            return;
        }
        foreach (var command in commandsBeforeNextFrame) r.RecordCommand(command.ToByteArray(), frame.Stamp.CaptureTimeUnixNs - 1);
        commandsBeforeNextFrame.Clear();
        // PNG costs ~20 ms at 640x480: the encoder thread does it. Nothing is dropped (a replay needs every frame);
        // the model thread only waits if encoding falls 32 frames behind. Order in the file is by log time.
        if (!framesToEncode.Writer.TryWrite((frame, r, settings, null))) framesToEncode.Writer.WriteAsync((frame, r, settings, null)).AsTask().GetAwaiter().GetResult();
    }

    private async Task EncodeRecordedFramesAsync()
    {
        await foreach (var (frame, target, settings, flushed) in framesToEncode.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            if (frame is not null && target is not null && settings is not null)
                target.RecordFrame(ResultBuilder.Header(frame.Stamp), settings.ImageFormat, Capture.FrameImageCodec.Encode(frame, settings.ImageFormat, settings.JpegQuality));
            flushed?.TrySetResult();
        }
    }

    /// <summary>
    /// Waits until every frame handed to the encoder so far is in its recording, so a stop by command loses none.
    /// (At the node's end the encoder is drained before the recorder stops, and the channel is closed: nothing to wait for.)
    /// </summary>
    private void FlushRecordedFrames()
    {
        var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            framesToEncode.Writer.WriteAsync((null, null, null, flushed)).AsTask().GetAwaiter().GetResult();
        }
        catch (ChannelClosedException)
        {
            return;
        }
        flushed.Task.GetAwaiter().GetResult();
    }

    private void RunPendingWork()
    {
        while (modelWork.Reader.TryRead(out var work)) work();
    }

    private void ProcessFrame(StreamPipe pipe, Frame frame)
    {
        var started = Stopwatch.GetTimestamp();
        var snapshot = Instructions.Snapshot;
        var due = snapshot.Where(i => i.IsDue(frame.Stamp)).ToList();
        foreach (var gone in pipe.Trackers.Keys.Where(id => snapshot.All(i => i.Id != id)).ToList()) pipe.Trackers.Remove(gone);
        bool keepsHistory = !pipe.OnDemand || snapshot.Any(i => i.Video is not null && i.AppliesTo(pipe.Source.StreamId));
        var results = new List<InstructionResult>(due.Count);
        if (due.Count > 0 || keepsHistory)
        {
            // A segmentation instruction always makes a mask (its answer is the template's [SEG]); an open question may not.
            var encoded = engine.Encode(frame, withMasks: due.Any(i => i.Video is null && i.Request.Kind == Core.Inference.InstructionKind.Segment));
            try
            {
                var batched = RunTemplatedTogether(encoded, due);
                foreach (var instruction in due)
                    results.Add(batched.TryGetValue(instruction, out var answer)
                        ? Answer(frame.Stamp, frame.Width, frame.Height, instruction.Id, instruction.Request, started, _ => answer,
                                 track: (a, result) => Track(pipe, instruction.Id, a, result))
                        : RunInstruction(pipe, frame, encoded, instruction, started));
            }
            finally
            {
                pipe.Remember(encoded);
            }
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
        FrameProcessed?.Invoke(new ProcessedFrame(frame, results, frameMs));
    }

    /// <summary>
    /// A frame's segmentation and grounding instructions, when there are several, run as one batch (one pass over the
    /// weights for all; BENCHMARKS.md). If the batch fails, none is answered here and each runs alone, so one bad
    /// instruction cannot cost the others their answers.
    /// </summary>
    private Dictionary<StandingInstruction, InstructionAnswer> RunTemplatedTogether(IEncodedFrame encoded, List<StandingInstruction> due)
    {
        var templated = due.Where(i => i.Video is null && i.Request.AnswersByTemplate()).ToList();
        var answers = new Dictionary<StandingInstruction, InstructionAnswer>(ReferenceEqualityComparer.Instance);
        if (templated.Count < 2) return answers;
        IReadOnlyList<InstructionAnswer> batch;
        try
        {
            batch = engine.RunBatch(encoded, templated.Select(i => i.Request).ToList());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Once: a batch that keeps failing would otherwise log every frame; each instruction's own error reaches its result.
            if (Interlocked.Exchange(ref batchFailureLogged, 1) == 0)
                logger.LogWarning("a batch of {Count} instructions failed ({Error}); running them one by one", templated.Count, e.Message);
            return answers;
        }
        for (int i = 0; i < templated.Count; i++) answers[templated[i]] = batch[i];
        return answers;
    }

    private InstructionResult RunInstruction(StreamPipe pipe, Frame frame, IEncodedFrame encoded, StandingInstruction instruction, long started)
    {
        if (instruction.Video is { } window)
        {
            var frames = window.Pick(pipe.History.Append(encoded).ToList(), f => f.Stamp.CaptureTimeUnixNs, frame.Stamp.CaptureTimeUnixNs);
            return Answer(frame.Stamp, frame.Width, frame.Height, instruction.Id, instruction.Request, started,
                          piece => engine.RunVideo(frames, instruction.Request, piece), frames);
        }
        return Answer(frame.Stamp, frame.Width, frame.Height, instruction.Id, instruction.Request, started,
                      piece => engine.Run(encoded, instruction.Request, piece), track: (answer, result) => Track(pipe, instruction.Id, answer, result));
    }

    /// <summary>Stable ids for a standing instruction's masks and boxes while their objects persist.</summary>
    private void Track(StreamPipe pipe, string instructionId, InstructionAnswer answer, InstructionResult result)
    {
        if (!pipe.Trackers.TryGetValue(instructionId, out var trackers))
            pipe.Trackers[instructionId] = trackers = (new ObjectTracker(), new ObjectTracker());
        var maskIds = trackers.Masks.Update(answer.Masks.Select((m, i) =>
            new TrackedObject(result.Masks[i].Bbox.XMin, result.Masks[i].Bbox.YMin, result.Masks[i].Bbox.XMax, result.Masks[i].Bbox.YMax, m.Pixels, m.Width, m.Height)).ToList());
        for (int i = 0; i < maskIds.Length; i++) result.Masks[i].TrackId = maskIds[i];
        var boxIds = trackers.Boxes.Update(answer.Boxes.Select(b => new TrackedObject(b.XMin, b.YMin, b.XMax, b.YMax)).ToList());
        for (int i = 0; i < boxIds.Length; i++) result.Boxes[i].TrackId = boxIds[i];
    }

    /// <summary>Runs one instruction, streams its text, publishes its result; a failure becomes the result's error.</summary>
    internal InstructionResult Answer(FrameStamp stamp, int width, int height, string instructionId, InstructionRequest request, long started,
                                      Func<Action<string>, InstructionAnswer> run, IReadOnlyList<IEncodedFrame>? window = null,
                                      Action<InstructionAnswer, InstructionResult>? track = null)
    {
        string stream = stamp.StreamId;
        var header = ResultBuilder.Header(stamp);
        uint pieceIndex = 0;
        string soFar = "";
        InstructionResult result;
        try
        {
            var answer = run(piece =>
            {
                // A stop (SIGTERM) cancels an answer between two tokens instead of waiting for it to finish.
                stopping.ThrowIfCancellationRequested();
                soFar += piece;
                Emit(Topics.Text(stream), new TextUpdate { Header = header, InstructionId = instructionId, Piece = piece, PieceIndex = pieceIndex++, Text = soFar });
            });
            result = ResultBuilder.Build(stamp, width, height, instructionId, request, answer, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            track?.Invoke(answer, result);
            Pipe(stream)?.CameraFor(width, height)?.Annotate(result, answer.Masks.Select(m =>
            {
                var g = MaskGeometry.Measure(m.Pixels, m.Width, m.Height);
                return (g.CentroidX, g.CentroidY);
            }).ToList());
            if (window is { Count: > 0 })
            {
                result.WindowFrames = (uint)window.Count;
                result.WindowStartUnixNs = window[0].Stamp.CaptureTimeUnixNs;
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && stopping.IsCancellationRequested))
        {
            // One failing instruction never takes the node down; the error travels with the result.
            result = new InstructionResult { Header = header, InstructionId = instructionId, Instruction = request.Text, Error = e.Message };
        }
        Emit(Topics.Results(stream), result);
        if (result.Masks.Count > 0) Emit(Topics.Masks(stream), ResultBuilder.MaskSet(result));
        if (result.Boxes.Count > 0) Emit(Topics.Boxes(stream), ResultBuilder.BoxSet(result));
        Emit(Topics.Text(stream), new TextUpdate { Header = header, InstructionId = instructionId, Text = result.Text, PieceIndex = pieceIndex, Final = true });
        return result;
    }

    /// <summary>Model thread: the stream's pipe, or null.</summary>
    internal StreamPipe? Pipe(string streamId) => pipes.FirstOrDefault(p => p.Source.StreamId == streamId);

    /// <summary>Model thread: an encoded frame of the stream (a given sequence from history, or the newest frame), or an error message.</summary>
    internal (IEncodedFrame? Frame, string? Error) EncodedFrameFor(string streamId, ulong? sequence)
    {
        var pipe = Pipe(streamId);
        if (pipe is null) return (null, $"unknown stream '{streamId}'");
        if (sequence is { } seq)
        {
            var found = pipe.FindEncoded(seq);
            return found is null ? (null, $"frame {seq} of stream '{streamId}' is not among the last {pipe.HistoryCapacity} encoded frames") : (found, null);
        }
        var latest = pipe.Latest;
        if (latest is null) return (null, $"stream '{streamId}' has no frame yet");
        var cached = pipe.FindEncoded(latest.Stamp.Sequence);
        if (cached is not null) return (cached, null);
        var encoded = engine.Encode(latest);
        pipe.Remember(encoded);
        return (encoded, null);
    }

    internal IInferenceEngine Engine => engine;

    private async Task StatusLoopAsync(CancellationToken cancellation)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.StatusIntervalSeconds));
        var lastStates = new Dictionary<string, Core.Frames.SourceState>();
        try
        {
            do
            {
                Emit(Topics.Status, BuildStatus());
                LogSourceChanges(lastStates);
                // Re-sent with every heartbeat so late joiners learn each camera's calibration.
                foreach (var pipe in pipes.ToList())
                    if (pipe.Camera is { } camera) Emit(Topics.Calibration(pipe.Source.StreamId), camera.ToMessage(pipe.Source.StreamId));
            }
            while (await timer.WaitForNextTickAsync(cancellation).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One log line per source state change (a camera lost, reconnecting, back), none while nothing changes.</summary>
    private void LogSourceChanges(Dictionary<string, Core.Frames.SourceState> lastStates)
    {
        foreach (var pipe in pipes.ToList())
        {
            var source = pipe.Source;
            var state = source.State;
            if (lastStates.TryGetValue(source.StreamId, out var last) && last == state) continue;
            lastStates[source.StreamId] = state;
            if (state is Core.Frames.SourceState.Stalled or Core.Frames.SourceState.Reconnecting or Core.Frames.SourceState.Failed)
                logger.LogWarning("source {StreamId} is {State}: {Error}", source.StreamId, state, source.LastError ?? "no error");
            else
                logger.LogInformation("source {StreamId} is {State}", source.StreamId, state);
        }
    }

    /// <summary>A snapshot of the node's state (safe from any thread).</summary>
    public NodeStatus BuildStatus()
    {
        var status = new NodeStatus
        {
            NodeId = options.NodeId,
            TimeUnixNs = UnixClock.NowNs(),
            UptimeS = uptime.Elapsed.TotalSeconds,
            Model = engine.Description,
            FpsOut = outRate.PerSecond,
            ResultsPublished = (ulong)(publisher?.Published ?? 0),
            PublishDropped = (ulong)(publisher?.Dropped ?? 0),
            StandingInstructions = (uint)Instructions.Count,
            Paused = paused,
            Recording = recorder?.GetStatus() ?? new RecordingStatus(),
            Memory = new MemoryStatus
            {
                WorkingSetBytes = (ulong)Environment.WorkingSet,
                ManagedBytes = (ulong)GC.GetTotalMemory(false),
                // GpuAllocatedBytes stays 0: TorchSharp 0.107's torch.cuda has no memory query (is_available,
                // device_count, synchronize and manual_seed only).
            },
        };
        foreach (var pipe in pipes.ToList())
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
                Reconnects = (ulong)pipe.Source.ReconnectCount,
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
