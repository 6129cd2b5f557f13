using System.Diagnostics;
using NetMQ;
using NetMQ.Sockets;
using ULlava.Cli.Soak;
using ULlava.Perception.Messages;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Transport;

namespace ULlava.Cli.Tests;

/// <summary>`ullava proxy` as a real process: forwards a publisher's messages, stops on SIGTERM or SIGINT with exit 0.</summary>
[Collection(RunsAloneCollection.Name)] // its stop has a 2 s deadline
public sealed class ProxyCommandTests
{
    [Theory]
    [InlineData(ProcFs.SigTerm)]
    [InlineData(2)] // SIGINT
    public void ProxyForwardsAndStopsCleanlyOnASignal(int signal)
    {
        using var node = new ResultPublisher("tcp://127.0.0.1:0");
        using var proxy = UllavaProcess.Start("proxy", "--node", node.Endpoint, "--pub", "tcp://127.0.0.1:0", "--stats", "0.5");
        string endpoint = proxy.WaitForStderr("publishing on ", TimeSpan.FromSeconds(60))["publishing on ".Length..].Trim();

        using (var subscriber = new SubscriberSocket())
        {
            subscriber.Connect(endpoint);
            subscriber.Subscribe(Topics.Status);
            var message = new NetMQMessage();
            bool got = false;
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!got && DateTime.UtcNow < deadline)
            {
                node.Publish(Topics.Status, new NodeStatus { NodeId = "node-a" });
                got = subscriber.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(100), ref message);
            }
            Assert.True(got, $"nothing through the proxy: {proxy.Stderr}");
            Assert.Equal("node-a", NodeStatus.Parser.ParseFrom(message![1].ToByteArray()).NodeId);
        }
        proxy.WaitForStderr("proxy: forwarded ", TimeSpan.FromSeconds(10)); // the periodic stats line

        var watch = Stopwatch.StartNew();
        Assert.True(ProcFs.Signal(proxy.Process.Id, signal));
        Assert.True(proxy.Process.WaitForExit(TimeSpan.FromSeconds(2)), $"still running 2 s after signal {signal}");
        proxy.Process.WaitForExit();
        Assert.Equal(0, proxy.Process.ExitCode);
        Assert.Contains("proxy: stopped", proxy.Stderr);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void ProxyWithoutNodesSaysWhatItNeeds()
    {
        var (code, _, stderr) = UllavaProcess.Run(TimeSpan.FromSeconds(60), "proxy", "--pub", "tcp://127.0.0.1:0");
        Assert.Equal(2, code);
        Assert.Contains("--node ENDPOINT", stderr);
    }
}
