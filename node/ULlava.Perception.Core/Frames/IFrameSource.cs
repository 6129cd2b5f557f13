namespace ULlava.Perception.Core.Frames;

/// <summary>A camera, stream, file or replay that produces stamped frames on its own thread.</summary>
public interface IFrameSource : IAsyncDisposable
{
    string StreamId { get; }

    /// <summary>Where the frames come from, as the user gave it.</summary>
    string Uri { get; }

    SourceState State { get; }

    /// <summary>The last error the source met (open failure, stream end), or null.</summary>
    string? LastError { get; }

    /// <summary>Reconnect attempts since <see cref="RunAsync"/> began (sources that never reconnect: 0).</summary>
    int ReconnectCount => 0;

    /// <summary>True for cameras and network streams: the newest frame matters, older ones may be dropped.</summary>
    bool IsLive { get; }

    /// <summary>Reads frames until the source ends or <paramref name="cancellation"/> fires, writing each to <paramref name="sink"/>.</summary>
    Task RunAsync(Func<Frame, CancellationToken, ValueTask> sink, CancellationToken cancellation);
}
