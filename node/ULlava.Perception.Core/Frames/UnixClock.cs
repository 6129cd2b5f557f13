namespace ULlava.Perception.Core.Frames;

/// <summary>Wall-clock time in Unix nanoseconds, the unit of every capture time on the wire.</summary>
public static class UnixClock
{
    public static long NowNs() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;
}
