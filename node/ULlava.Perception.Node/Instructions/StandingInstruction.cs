using ULlava.Perception.Core.Frames;
using ULlava.Perception.Core.Inference;

namespace ULlava.Perception.Node.Instructions;

/// <summary>
/// An instruction that runs on every sampled frame of its streams, thinned by every-N and a maximum rate.
/// Its schedule state (counters, last run) belongs to the model thread.
/// </summary>
public sealed class StandingInstruction
{
    private readonly Dictionary<string, (ulong Seen, long LastRunNs)> perStream = new();

    public StandingInstruction(string id, InstructionRequest request, IReadOnlyList<string>? streamIds = null, int everyNFrames = 1, double maxRateHz = 0,
                               VideoWindow? video = null)
    {
        request.Validate();
        if (everyNFrames < 1) throw new ArgumentOutOfRangeException(nameof(everyNFrames), $"every N frames {everyNFrames}: expected 1 or more");
        if (!(maxRateHz >= 0 && maxRateHz <= 1000)) throw new ArgumentOutOfRangeException(nameof(maxRateHz), $"max rate {maxRateHz} Hz: expected 0 (no limit) to 1000");
        Id = id;
        Request = request;
        StreamIds = streamIds ?? Array.Empty<string>();
        EveryNFrames = everyNFrames;
        MaxRateHz = maxRateHz;
        Video = video;
        AddedUnixNs = UnixClock.NowNs();
    }

    public string Id { get; }
    public InstructionRequest Request { get; }

    /// <summary>Empty: every stream.</summary>
    public IReadOnlyList<string> StreamIds { get; }
    public int EveryNFrames { get; }
    public double MaxRateHz { get; }
    public long Runs { get; private set; }

    /// <summary>Null: image mode (each sampled frame). Otherwise a video question over a window of recent frames.</summary>
    public VideoWindow? Video { get; }

    public long AddedUnixNs { get; }

    public bool AppliesTo(string streamId) => StreamIds.Count == 0 || StreamIds.Contains(streamId);

    /// <summary>Whether to run on this sampled frame; counts the frame either way.</summary>
    public bool IsDue(FrameStamp stamp)
    {
        if (!AppliesTo(stamp.StreamId)) return false;
        perStream.TryGetValue(stamp.StreamId, out var s);
        bool due = s.Seen % (ulong)EveryNFrames == 0
                   && (MaxRateHz <= 0 || s.Seen == 0 || stamp.CaptureTimeUnixNs - s.LastRunNs >= (long)(1e9 / MaxRateHz));
        perStream[stamp.StreamId] = (s.Seen + 1, due ? stamp.CaptureTimeUnixNs : s.LastRunNs);
        if (due) Runs++;
        return due;
    }
}
