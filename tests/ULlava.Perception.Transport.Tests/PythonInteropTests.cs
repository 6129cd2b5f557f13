using System.Diagnostics;
using System.Text.Json;
using ULlava.Perception.Core.Results;
using ULlava.Perception.Messages;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Tests.Shared;

namespace ULlava.Perception.Transport.Tests;

/// <summary>
/// tools/python/ullava_client.py (Debian's python3-zmq and python3-protobuf, classes generated here by protoc)
/// against a real ResultPublisher and CommandServer. Every process started here is killed by pid on the way out.
/// </summary>
public sealed class PythonInteropTests : IDisposable
{
    private static readonly TimeSpan Timeout = PythonClient.Timeout;
    private readonly PythonClient client = new();

    public void Dispose() => client.Dispose();

    [Fact]
    public void PythonSendsCommandsAndPrintsTheReplies()
    {
        var book = new InstructionBook();
        using var server = new CommandServer(book, "tcp://127.0.0.1:0");

        var (code, output) = client.Run("command", "--endpoint", server.Endpoint, "--timeout", "20", "add", "find", "the", "cup", "--kind", "segment");
        Assert.True(code == 0, output);
        using var added = JsonDocument.Parse(output);
        Assert.True(added.RootElement.GetProperty("ok").GetBoolean());
        Assert.Equal("find the cup", added.RootElement.GetProperty("instruction").GetProperty("spec").GetProperty("text").GetString());
        Assert.Equal("INSTRUCTION_KIND_SEGMENT", added.RootElement.GetProperty("instruction").GetProperty("spec").GetProperty("kind").GetString());

        (code, output) = client.Run("command", "--endpoint", server.Endpoint, "--timeout", "20", "--json", """{"requestId": "py-1", "listInstructions": {}}""");
        Assert.True(code == 0, output);
        using var listed = JsonDocument.Parse(output);
        Assert.Equal("py-1", listed.RootElement.GetProperty("requestId").GetString());
        Assert.Equal("find the cup", listed.RootElement.GetProperty("instructionList").GetProperty("instructions")[0].GetProperty("spec").GetProperty("text").GetString());

        // A failed command exits 1 and still prints the reply.
        (code, output) = client.Run("command", "--endpoint", server.Endpoint, "--timeout", "20", "remove", "nope");
        Assert.Equal(1, code);
        Assert.Equal("ERROR_CODE_NOT_FOUND", JsonDocument.Parse(output).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(3, book.Calls);
    }

    [Fact]
    public async Task PythonSubscriberDecodesTheMaskRleToTheSameAreaAndBox()
    {
        // An asymmetric block plus a stray pixel: a row-major misreading of the counts would move the box.
        const int width = 40, height = 30;
        var pixels = new byte[width * height];
        for (int y = 3; y <= 9; y++)
            for (int x = 5; x <= 24; x++) pixels[y * width + x] = 1;
        pixels[20 * width + 33] = 1;
        int area = pixels.Count(p => p != 0);
        var result = new InstructionResult
        {
            Header = new FrameHeader { StreamId = "cam0", Sequence = 9 },
            InstructionId = "seg-1",
            Kind = InstructionKind.Segment,
            Masks = { new Mask { Rle = new RleMask { Height = height, Width = width, Counts = { CocoRle.Encode(pixels, width, height) } }, Area = (uint)area } },
        };
        using var publisher = new ResultPublisher("tcp://127.0.0.1:0");

        using var python = client.Start("subscribe", "--endpoint", publisher.Endpoint, "--topic", Topics.Results("cam0"), "--count", "1", "--timeout", "30");
        try
        {
            var stderr = python.StandardError.ReadToEndAsync();
            string? first = await python.StandardOutput.ReadLineAsync().WaitAsync(Timeout);
            Assert.True(first is not null && first.Contains("subscribed"), "the subscriber did not start: " + first);
            // PUB/SUB joins late: publish until the subscriber has printed a line.
            var line = python.StandardOutput.ReadLineAsync();
            var deadline = DateTime.UtcNow + Timeout;
            while (!line.IsCompleted && DateTime.UtcNow < deadline)
            {
                publisher.Publish(Topics.Results("cam0"), result);
                await Task.WhenAny(line, Task.Delay(100));
            }
            if (!line.IsCompleted || await line is null)
            {
                PythonClient.Kill(python);
                Assert.Fail("no line from the Python subscriber: " + await stderr);
            }

            using var json = JsonDocument.Parse((await line)!);
            Assert.Equal("ullava/v1/cam0/results", json.RootElement.GetProperty("topic").GetString());
            Assert.Equal("InstructionResult", json.RootElement.GetProperty("type").GetString());
            Assert.Equal("seg-1", json.RootElement.GetProperty("message").GetProperty("instructionId").GetString());
            Assert.Equal(area, json.RootElement.GetProperty("maskAreas")[0].GetInt32());
            Assert.Equal([5, 3, 33, 20], json.RootElement.GetProperty("maskBoxes")[0].EnumerateArray().Select(v => v.GetInt32()));
            await python.WaitForExitAsync().WaitAsync(Timeout);
            Assert.Equal(0, python.ExitCode);
        }
        finally
        {
            PythonClient.Kill(python);
        }
    }
}
