using System.Globalization;
using System.Runtime.InteropServices;
using NetMQ;
using ULlava.Perception.Transport;

namespace ULlava.Cli.Commands;

/// <summary>
/// `ullava proxy`: several nodes behind one endpoint (ZeroMQ XSUB/XPUB through NetMQ's Proxy). Subscribers connect
/// to --pub as they would to a node; their subscriptions travel on to the nodes. Stops on SIGTERM or SIGINT, exit 0.
/// </summary>
public static class ProxyCommand
{
    public const string Usage =
        "proxy --node ENDPOINT [--node ENDPOINT]... --pub ENDPOINT [--stats SECONDS]\n" +
        "       [--server-key FILE [--client-key FILE --client-secret FILE]] [--curve-public FILE --curve-secret FILE]\n" +
        "  --node: a node's publish endpoint (its --pub), repeatable; --pub: the one endpoint subscribers use.\n" +
        "  --server-key: the nodes' publisher key when they run with --encrypt-results (one key for all nodes);\n" +
        "  --curve-public/--curve-secret: encrypt what the proxy serves too (otherwise it serves plain).";

    public static int Run(ArgReader args)
    {
        var nodes = args.All("--node");
        if (nodes.Count == 0) throw new UsageException("give each node's publish endpoint with --node ENDPOINT (repeatable)");
        string pub = args.Required("--pub");
        double statsSeconds = args.Double("--stats", 10, 0, 86_400);
        var nodeCurve = CurveArgs.Read(args);
        string? publicKey = args.Optional("--curve-public"), secretKey = args.Optional("--curve-secret");
        args.EnsureAllUsed();
        if ((publicKey is null) != (secretKey is null)) throw new UsageException("--curve-public and --curve-secret go together");
        NetMQCertificate? server = publicKey is null ? null : CurveKeys.Read(publicKey, secretKey!);

        using var stop = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true; // no abrupt exit: stop the proxy, then return 0
            stop.Cancel();
        }
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

        using (var proxy = new ResultProxy(nodes, pub, new ResultProxyOptions { NodeCurve = nodeCurve, CurveServer = server }))
        {
            Console.Error.WriteLine($"proxy: subscribed to {string.Join(", ", proxy.NodeEndpoints)}");
            Console.Error.WriteLine($"publishing on {proxy.Endpoint}" + (server is null ? "" : " (CURVE)"));
            var interval = statsSeconds > 0 ? TimeSpan.FromSeconds(statsSeconds) : Timeout.InfiniteTimeSpan;
            while (!stop.Token.WaitHandle.WaitOne(interval)) Console.Error.WriteLine(Stats(proxy));
            Console.Error.WriteLine(Stats(proxy));
        }
        Console.Error.WriteLine("proxy: stopped");
        return 0;
    }

    private static string Stats(ResultProxy proxy) => string.Create(CultureInfo.InvariantCulture,
        $"proxy: forwarded {proxy.MessagesForwarded} messages ({proxy.BytesForwarded / 1e6:F1} MB) on {proxy.ForwardedByTopic.Count} topics; {proxy.SubscriptionsForwarded} subscription changes sent to the nodes");
}
