using ULlava.Perception.Messages;
using ULlava.Perception.Transport;

namespace ULlava.Cli.Commands;

/// <summary>`ullava sub`: prints the node's messages as JSON lines.</summary>
public static class SubCommand
{
    public const string Usage = "sub [--endpoint tcp://127.0.0.1:5556] [--topic ullava/v1/] [--count N] [--server-key FILE [--client-key FILE --client-secret FILE]]";

    public static int Run(ArgReader args)
    {
        string endpoint = args.Optional("--endpoint") ?? SubscriberTool.DefaultEndpoint;
        string topic = args.Optional("--topic") ?? Topics.Prefix;
        int count = args.Int("--count", 0, 0, int.MaxValue);
        var curve = CurveArgs.Read(args);
        args.EnsureAllUsed();
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        using var subscriber = new SubscriberTool(endpoint, topic, curve);
        subscriber.Run(Console.Out, cancel.Token, count);
        return 0;
    }
}
