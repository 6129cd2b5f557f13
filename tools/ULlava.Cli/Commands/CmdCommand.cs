using ULlava.Perception.Transport;

namespace ULlava.Cli.Commands;

/// <summary>`ullava cmd VERB ...`: sends one command to a running node and prints the reply as JSON (exit 1 when not ok).</summary>
public static class CmdCommand
{
    public const string Usage = "cmd [--endpoint tcp://127.0.0.1:5557] [--timeout SECONDS] [--server-key FILE [--client-key FILE --client-secret FILE]] VERB ...\n" +
                                "       VERB: add TEXT [--kind K] [--stream ID] [--every N] [--max-rate HZ] [--video ...] | remove ID | list | ask TEXT ... |\n" +
                                "             sam [--point X,Y[,1|0]]... [--box X0,Y0,X1,Y1] | pause | resume | sampling ... | record-start PATH | record-stop | status";

    public static int Run(ArgReader args)
    {
        string endpoint = args.Optional("--endpoint") ?? "tcp://127.0.0.1:5557";
        double timeout = args.Double("--timeout", 30, 0.1, 3600);
        var curve = CurveArgs.Read(args);
        var verb = args.Rest();
        Perception.Messages.V1.Reply reply;
        try
        {
            reply = CommandTool.Run(endpoint, verb, TimeSpan.FromSeconds(timeout), curve);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        catch (TimeoutException)
        {
            Console.Error.WriteLine($"ullava cmd: no reply from {endpoint} within {timeout} s (is the node running? with CURVE, is this client's key allowed?)");
            return 2;
        }
        Console.WriteLine(CommandTool.ToJson(reply));
        return reply.Ok ? 0 : 1;
    }
}
