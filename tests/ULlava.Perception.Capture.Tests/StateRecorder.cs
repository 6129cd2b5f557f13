using ULlava.Perception.Core.Frames;

namespace ULlava.Perception.Capture.Tests;

/// <summary>Every state change of a source, in order, and a way to wait for one.</summary>
internal sealed class StateRecorder
{
    private readonly List<SourceStateChangedEventArgs> changes = [];

    public StateRecorder(FfmpegStreamSource source) => source.StateChanged += (_, e) => { lock (changes) changes.Add(e); };

    public IReadOnlyList<SourceStateChangedEventArgs> Changes
    {
        get
        {
            lock (changes) return [.. changes];
        }
    }

    /// <summary>The first change to <paramref name="state"/> at or after index <paramref name="from"/>, waited for up to <paramref name="timeout"/>.</summary>
    public async Task<(SourceStateChangedEventArgs Change, int Index)> WaitForAsync(SourceState state, int from, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var all = Changes;
            for (int i = from; i < all.Count; i++)
                if (all[i].State == state) return (all[i], i);
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"no {state} within {timeout.TotalSeconds} s; changes: {string.Join(" | ", all.Select(c => $"{c.State}: {c.Reason}"))}");
            await Task.Delay(10);
        }
    }

    public int Count
    {
        get
        {
            lock (changes) return changes.Count;
        }
    }
}
