using System.Globalization;
using System.Runtime.InteropServices;

namespace ULlava.Cli.Soak;

/// <summary>A process as /proc knows it: the pid and its start time (so a reused pid is never mistaken for it).</summary>
public readonly record struct ProcessIdentity(int Pid, ulong StartTicks, string Name)
{
    public override string ToString() => $"{Name} {Pid}";
}

/// <summary>What the soak reads from /proc (Linux) and the one signal call it makes.</summary>
public static partial class ProcFs
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Sends a signal; false when the process is already gone.</summary>
    public static bool Signal(int pid, int signal) => Kill(pid, signal) == 0;

    /// <summary>VmRSS and RssAnon of /proc/PID/status in bytes, or null when the process is gone (or a zombie).</summary>
    public static (long Resident, long Anonymous)? Memory(int pid)
    {
        try
        {
            long? resident = null, anonymous = null;
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) resident = Kilobytes(line);
                else if (line.StartsWith("RssAnon:", StringComparison.Ordinal)) anonymous = Kilobytes(line);
            }
            return resident is { } r && anonymous is { } a ? (r, a) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>"Name:   12345 kB" in bytes.</summary>
    private static long Kilobytes(string line) =>
        long.Parse(line[(line.IndexOf(':') + 1)..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture) * 1024;

    /// <summary>/proc/PID/stat: (state, parent pid, start time, name), or null when the process is gone.</summary>
    private static (char State, int Parent, ulong Start, string Name)? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // "pid (comm) state ppid ... starttime(22) ...": comm may hold spaces and parentheses; it ends at the last ')'.
        int open = text.IndexOf('('), close = text.LastIndexOf(')');
        if (open < 0 || close < open) return null;
        var fields = text[(close + 2)..].Split(' ');
        return (fields[0][0], int.Parse(fields[1], CultureInfo.InvariantCulture), ulong.Parse(fields[19], CultureInfo.InvariantCulture), text[(open + 1)..close]);
    }

    public static ProcessIdentity? Identify(int pid) => Stat(pid) is { } s ? new ProcessIdentity(pid, s.Start, s.Name) : null;

    /// <summary>True while that very process (same start time) exists and is not a zombie.</summary>
    public static bool IsRunning(ProcessIdentity process) =>
        Stat(process.Pid) is { } s && s.Start == process.StartTicks && s.State != 'Z';

    /// <summary>Every live descendant of <paramref name="pid"/> (children, their children, ...).</summary>
    public static List<ProcessIdentity> Descendants(int pid)
    {
        var byParent = new Dictionary<int, List<ProcessIdentity>>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int child)) continue;
            if (Stat(child) is not { } s || s.State == 'Z') continue;
            if (!byParent.TryGetValue(s.Parent, out var list)) byParent[s.Parent] = list = [];
            list.Add(new ProcessIdentity(child, s.Start, s.Name));
        }
        var result = new List<ProcessIdentity>();
        var pending = new Queue<int>([pid]);
        while (pending.TryDequeue(out int parent))
        {
            if (!byParent.TryGetValue(parent, out var children)) continue;
            foreach (var c in children)
            {
                result.Add(c);
                pending.Enqueue(c.Pid);
            }
        }
        return result;
    }
}
