using Google.Protobuf;
using NetMQ;
using NetMQ.Sockets;
using ULlava.Perception.Messages.V1;
using ErrorCode = ULlava.Perception.Messages.V1.ErrorCode;

namespace ULlava.Perception.Transport.Tests;

public class CommandServerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void DealerClientAddsListsAndRemovesWithRequestIdsEchoed()
    {
        var book = new InstructionBook();
        using var server = new CommandServer(book, "tcp://127.0.0.1:0");
        Assert.Matches(@"^tcp://127\.0\.0\.1:\d+$", server.Endpoint);
        using var client = new CommandClient(server.Endpoint);

        var add = client.Send(new Command { RequestId = "r1", AddInstruction = new AddInstruction { Spec = new InstructionSpec { Text = "segment the cup", Kind = InstructionKind.Segment } } }, Timeout);
        Assert.True(add.Ok);
        Assert.Equal("r1", add.RequestId);
        Assert.Equal("segment the cup", add.Instruction.Spec.Text);

        var list = client.Send(new Command { RequestId = "r2", ListInstructions = new ListInstructions() }, Timeout);
        Assert.Equal("r2", list.RequestId);
        Assert.Equal([add.Instruction.Id], list.InstructionList.Instructions.Select(i => i.Id));

        var removeUnknown = client.Send(new Command { RequestId = "r3", RemoveInstruction = new RemoveInstruction { Id = "nope" } }, Timeout);
        Assert.False(removeUnknown.Ok);
        Assert.Equal(ErrorCode.NotFound, removeUnknown.Error.Code);
        Assert.True(client.Send(new Command { RemoveInstruction = new RemoveInstruction { Id = add.Instruction.Id } }, Timeout).Ok);
        Assert.Empty(client.Send(new Command { ListInstructions = new ListInstructions() }, Timeout).InstructionList.Instructions);
    }

    [Fact]
    public void ReqClientGetsItsReplyThroughTheDelimiterEnvelope()
    {
        using var server = new CommandServer(new InstructionBook(), "tcp://127.0.0.1:0");
        using var req = new RequestSocket();
        req.Options.Linger = TimeSpan.Zero;
        req.Connect(server.Endpoint);
        req.SendFrame(new Command { RequestId = "q1", Pause = new Pause() }.ToByteArray());
        Assert.True(req.TryReceiveFrameBytes(Timeout, out byte[]? bytes));
        var reply = Reply.Parser.ParseFrom(bytes);
        Assert.Equal("q1", reply.RequestId);
        Assert.True(reply.Status.Paused);
        // REQ is strictly alternating: a second round trip shows the envelope was answered exactly once.
        req.SendFrame(new Command { RequestId = "q2", Resume = new Resume() }.ToByteArray());
        Assert.True(req.TryReceiveFrameBytes(Timeout, out bytes));
        Assert.False(Reply.Parser.ParseFrom(bytes).Status.Paused);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF }, "not a Command protobuf")]
    [InlineData(new byte[] { 0x0A, 0x05, 0x61 }, "not a Command protobuf")] // request_id claims 5 bytes, has 1
    [InlineData(new byte[] { 0x0A, 0x01, 0x61 }, "no body")]              // request_id "a" and nothing else
    [InlineData(new byte[0], "no body")]
    public void MalformedPayloadsGetAMalformedReplyAndNeverReachTheHandler(byte[] payload, string expected)
    {
        var book = new InstructionBook();
        using var server = new CommandServer(book, "tcp://127.0.0.1:0");
        using var dealer = Dealer(server.Endpoint);
        dealer.SendFrame(payload);
        var reply = Receive(dealer);
        Assert.False(reply.Ok);
        Assert.Equal(ErrorCode.Malformed, reply.Error.Code);
        Assert.Contains(expected, reply.Error.Message);
        Assert.Equal(0, book.Calls);
        // Still serving.
        using var client = new CommandClient(server.Endpoint);
        Assert.True(client.Send(new Command { GetStatus = new GetStatus() }, Timeout).Ok);
        Assert.Equal(1, book.Calls);
    }

    [Fact]
    public void ExtraFramesAreMalformed()
    {
        var book = new InstructionBook();
        using var server = new CommandServer(book, "tcp://127.0.0.1:0");
        using var dealer = Dealer(server.Endpoint);
        dealer.SendMoreFrame("x").SendMoreFrame("y").SendFrame(new Command { GetStatus = new GetStatus() }.ToByteArray());
        var reply = Receive(dealer);
        Assert.Equal(ErrorCode.Malformed, reply.Error.Code);
        Assert.Contains("got 3 frames", reply.Error.Message);
        Assert.Equal(0, book.Calls);
    }

    [Fact]
    public void HandlerExceptionsBecomeInternalReplies()
    {
        using var server = new CommandServer(new ThrowingHandler(), "tcp://127.0.0.1:0");
        using var client = new CommandClient(server.Endpoint);
        var sync = client.Send(new Command { RequestId = "s", Pause = new Pause() }, Timeout);
        Assert.Equal(("s", false, ErrorCode.Internal), (sync.RequestId, sync.Ok, sync.Error.Code));
        Assert.Contains("thrown at once", sync.Error.Message);
        var async = client.Send(new Command { RequestId = "a", Resume = new Resume() }, Timeout);
        Assert.Equal(("a", ErrorCode.Internal), (async.RequestId, async.Error.Code));
        Assert.Contains("thrown later", async.Error.Message);
    }

    [Fact]
    public void BeyondTheInFlightBoundCommandsAreAnsweredBusyAndTheHeldOnesStillComplete()
    {
        var handler = new HeldHandler();
        using var server = new CommandServer(handler, "tcp://127.0.0.1:0", maxInFlight: 2);
        using var dealer = Dealer(server.Endpoint);
        dealer.SendFrame(new Command { RequestId = "1", GetStatus = new GetStatus() }.ToByteArray());
        dealer.SendFrame(new Command { RequestId = "2", GetStatus = new GetStatus() }.ToByteArray());
        Assert.True(handler.TwoStarted.Wait(Timeout));
        dealer.SendFrame(new Command { RequestId = "3", GetStatus = new GetStatus() }.ToByteArray());
        var busy = Receive(dealer);
        Assert.Equal(("3", false, ErrorCode.Unavailable), (busy.RequestId, busy.Ok, busy.Error.Code));
        Assert.Contains("busy", busy.Error.Message);

        handler.Release.SetResult();
        var done = new[] { Receive(dealer), Receive(dealer) };
        Assert.Equal(["1", "2"], done.Select(r => r.RequestId).Order());
        Assert.All(done, r => Assert.True(r.Ok));
    }

    [Fact]
    public void DisposeClosesTheSocketSoTheEndpointCanBeBoundAgain()
    {
        var handler = new HeldHandler();
        string endpoint;
        using (var server = new CommandServer(handler, "tcp://127.0.0.1:0"))
        {
            endpoint = server.Endpoint;
            using var dealer = Dealer(endpoint);
            dealer.SendFrame(new Command { GetStatus = new GetStatus() }.ToByteArray());
            Assert.True(handler.OneStarted.Wait(Timeout));
        }
        // The held command completes after Dispose: its reply is dropped, nothing throws.
        handler.Release.SetResult();
        // ZeroMQ closes the listener on its I/O thread, shortly after Dispose returns: retry the bind until then.
        CommandServer? again = null;
        var deadline = DateTime.UtcNow + Timeout;
        while (again is null)
        {
            try
            {
                again = new CommandServer(new InstructionBook(), endpoint);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
        }
        using var _ = again;
        using var client = new CommandClient(again.Endpoint);
        Assert.True(client.Send(new Command { GetStatus = new GetStatus() }, Timeout).Ok);
    }

    [Fact]
    public void BindingAnEndpointInUseFailsWithTheEndpointNamed()
    {
        using var first = new CommandServer(new InstructionBook(), "tcp://127.0.0.1:0");
        var e = Assert.Throws<IOException>(() => new CommandServer(new InstructionBook(), first.Endpoint));
        Assert.Contains(first.Endpoint, e.Message);
    }

    internal static DealerSocket Dealer(string endpoint)
    {
        var dealer = new DealerSocket();
        dealer.Options.Linger = TimeSpan.Zero;
        dealer.Connect(endpoint);
        return dealer;
    }

    private static Reply Receive(DealerSocket dealer)
    {
        Assert.True(dealer.TryReceiveFrameBytes(Timeout, out byte[]? bytes), "no reply");
        return Reply.Parser.ParseFrom(bytes);
    }

    private sealed class ThrowingHandler : ICommandHandler
    {
        public Task<Reply> HandleAsync(Command command, CancellationToken cancellation) =>
            command.BodyCase == Command.BodyOneofCase.Pause
                ? throw new InvalidOperationException("thrown at once")
                : Later();

        private static async Task<Reply> Later()
        {
            await Task.Yield();
            throw new InvalidOperationException("thrown later");
        }
    }

    /// <summary>Holds every command until released, like an ask waiting for the model.</summary>
    private sealed class HeldHandler : ICommandHandler
    {
        private int started;

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public ManualResetEventSlim OneStarted { get; } = new();
        public ManualResetEventSlim TwoStarted { get; } = new();

        public async Task<Reply> HandleAsync(Command command, CancellationToken cancellation)
        {
            int n = Interlocked.Increment(ref started);
            OneStarted.Set();
            if (n >= 2) TwoStarted.Set();
            await Release.Task;
            return new Reply { Ok = true };
        }
    }
}
