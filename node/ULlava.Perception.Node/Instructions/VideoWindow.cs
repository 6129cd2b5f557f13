namespace ULlava.Perception.Node.Instructions;

/// <summary>A video instruction's window: the last <see cref="Seconds"/> of sampled frames, <see cref="Frames"/> of them evenly picked.</summary>
public sealed record VideoWindow(double Seconds, int Frames)
{
    public const int MaxFrames = 32;

    public void Validate()
    {
        if (!(Seconds > 0 && Seconds <= 3600)) throw new ArgumentOutOfRangeException(nameof(Seconds), $"window of {Seconds} s: expected more than 0, at most 3600");
        if (Frames is < 1 or > MaxFrames) throw new ArgumentOutOfRangeException(nameof(Frames), $"window of {Frames} frames: expected 1 to {MaxFrames}");
    }

    /// <summary>Evenly picks up to <see cref="Frames"/> items (oldest first) from those within the window ending at <paramref name="endNs"/>.</summary>
    public List<T> Pick<T>(IReadOnlyList<T> history, Func<T, long> captureNs, long endNs)
    {
        var inWindow = history.Where(f => captureNs(f) <= endNs && endNs - captureNs(f) <= (long)(Seconds * 1e9)).ToList();
        if (inWindow.Count <= Frames) return inWindow;
        if (Frames == 1) return new List<T> { inWindow[^1] };
        return Enumerable.Range(0, Frames).Select(i => inWindow[(int)Math.Round(i * (inWindow.Count - 1) / (double)(Frames - 1))]).ToList();
    }
}
