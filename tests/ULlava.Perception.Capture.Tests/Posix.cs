using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace ULlava.Perception.Capture.Tests;

/// <summary>Signals, /proc and free ports: what the tests need to freeze, kill and check processes.</summary>
internal static partial class Posix
{
    public const int SigKill = 9;
    public const int SigTerm = 15;
    public const int SigCont = 18;
    public const int SigStop = 19;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    public static void Signal(int pid, int signal)
    {
        if (Kill(pid, signal) != 0) throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>True while /proc/pid exists (a zombie counts: it is not reaped yet).</summary>
    public static bool Exists(int pid) => Directory.Exists($"/proc/{pid}");

    public static string Comm(int pid) => File.ReadAllText($"/proc/{pid}/comm").Trim();

    /// <summary>Field 6 of /proc/pid/stat: the session id.</summary>
    public static int SessionId(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[3]);
    }

    /// <summary>A loopback port nobody listens on right now.</summary>
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
