using System.Text.Json;
using Google.Protobuf;
using ULlava.Perception.Messages;
using ULlava.Perception.Messages.V1;

namespace ULlava.Perception.Transport.Tests;

public class CommandToolTests
{
    private static Command Parse(string line) => CommandTool.Parse(line.Split(' '));

    [Fact]
    public void AddCarriesTextKindStreamsRatesAndTheVideoWindow()
    {
        var c = Parse("add segment the red cup --kind segment --stream cam0 --stream cam1 --every 3 --max-rate 2.5 --video --window-seconds 4 --window-frames 8");
        Assert.NotEmpty(c.RequestId);
        var s = c.AddInstruction.Spec;
        Assert.Equal("segment the red cup", s.Text);
        Assert.Equal(InstructionKind.Segment, s.Kind);
        Assert.Equal(["cam0", "cam1"], s.StreamIds);
        Assert.Equal((3u, 2.5), (s.EveryNFrames, s.MaxRateHz));
        Assert.Equal((InstructionMode.Video, 4.0, 8u), (s.Mode, s.WindowSeconds, s.WindowFrames));
        Assert.Equal(InstructionMode.Image, Parse("add caption").AddInstruction.Spec.Mode);
    }

    [Fact]
    public void EveryOtherVerbBuildsItsCommand()
    {
        Assert.Equal("i7", Parse("remove i7").RemoveInstruction.Id);
        Assert.Equal(Command.BodyOneofCase.ListInstructions, Parse("list").BodyCase);
        Assert.Equal(Command.BodyOneofCase.Pause, Parse("pause").BodyCase);
        Assert.Equal(Command.BodyOneofCase.Resume, Parse("resume").BodyCase);
        Assert.Equal(Command.BodyOneofCase.StopRecording, Parse("record-stop").BodyCase);
        Assert.Equal(Command.BodyOneofCase.GetStatus, Parse("status").BodyCase);

        var ask = Parse("ask what is on the table? --stream cam1 --sequence 42 --kind ask").Ask;
        Assert.Equal(("what is on the table?", "cam1", 42ul, true, InstructionKind.Ask), (ask.Spec.Text, ask.StreamId, ask.Sequence, ask.HasSequence, ask.Spec.Kind));
        Assert.Equal(InstructionMode.Video, Parse("ask what happened --video --window-frames 4").Ask.Spec.Mode);

        var sam = Parse("sam --point 10,20 --point 30.5,40,0 --box 1,2,300,400 --stream cam0 --sequence 5 --multimask").SamPrompt;
        Assert.Equal([(10f, 20f, true), (30.5f, 40f, false)], sam.Points.Select(p => (p.X, p.Y, p.Positive)));
        Assert.Equal((1f, 2f, 300f, 400f), (sam.Box.XMin, sam.Box.YMin, sam.Box.XMax, sam.Box.YMax));
        Assert.Equal(("cam0", 5ul, true, true), (sam.StreamId, sam.Sequence, sam.HasSequence, sam.Multimask));
        Assert.False(Parse("sam --box 0,0,5,5").SamPrompt.HasSequence);

        var sampling = Parse("sampling --max-fps 5 --every 2 --on-demand --stream cam0").SetSampling;
        Assert.Equal((5.0, 2u, true, "cam0"), (sampling.MaxFps, sampling.EveryNFrames, sampling.OnDemand, sampling.StreamId));

        var record = Parse("record-start /tmp/run1 --format png --jpeg-quality 90").StartRecording;
        Assert.Equal(("/tmp/run1", "png", 90u), (record.Path, record.ImageFormat, record.JpegQuality));
    }

    [Theory]
    [InlineData("", "no verb")]
    [InlineData("fly", "unknown verb 'fly'")]
    [InlineData("add", "add: needs the instruction TEXT")]
    [InlineData("add cup --kind blob", "--kind must be auto, caption, ask, segment or ground, not 'blob'")]
    [InlineData("add cup --every 0", "--every must be a whole number >= 1, not '0'")]
    [InlineData("add cup --every -2", "--every must be a whole number >= 1, not '-2'")]
    [InlineData("add cup --max-rate fast", "--max-rate must be a number >= 0, not 'fast'")]
    [InlineData("add cup --window-frames 4", "--window-seconds and --window-frames need --video")]
    [InlineData("add cup --video --window-seconds 0", "--window-seconds must be a number > 0, not '0'")]
    [InlineData("add cup --stream cam/0", "--stream 'cam/0' is not a stream id")]
    [InlineData("add cup --every", "add: --every needs a value")]
    [InlineData("add cup --colour red", "add: unknown option --colour")]
    [InlineData("remove", "remove: needs exactly one ID, got 0")]
    [InlineData("remove a b", "remove: needs exactly one ID, got 2")]
    [InlineData("list extra", "list takes no arguments, got 'extra'")]
    [InlineData("ask why --stream a --stream b", "ask: --stream given more than once")]
    [InlineData("ask why --sequence x", "--sequence must be a whole number >= 0, not 'x'")]
    [InlineData("sam", "sam: needs at least one --point")]
    [InlineData("sam --point 1", "--point must be X,Y or X,Y,1|0, not '1'")]
    [InlineData("sam --point 1,2,5", "--point label must be 1 (object) or 0 (background), not '5'")]
    [InlineData("sam --point a,2", "--point coordinates must be pixel numbers >= 0, not 'a'")]
    [InlineData("sam --box 5,5,1,1", "--box needs X0 < X1 and Y0 < Y1")]
    [InlineData("sam --box 1,2,3", "--box must be X0,Y0,X1,Y1, not '1,2,3'")]
    [InlineData("sam cup --box 0,0,1,1", "sam: unexpected argument 'cup'")]
    [InlineData("sampling --max-fps -1", "--max-fps must be a number >= 0, not '-1'")]
    [InlineData("record-start", "record-start: needs exactly one PATH, got 0")]
    [InlineData("record-start /tmp/x --format gif", "--format must be jpeg or png, not 'gif'")]
    [InlineData("record-start /tmp/x --jpeg-quality 101", "--jpeg-quality must be 1 to 100, not 101")]
    public void BadArgumentsGiveClearErrors(string line, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => CommandTool.Parse(line.Length == 0 ? [] : line.Split(' ')));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void RoundTripAgainstARealServerReturnsTheReplyAsJson()
    {
        var book = new InstructionBook();
        using var server = new CommandServer(book, "tcp://127.0.0.1:0");
        var timeout = TimeSpan.FromSeconds(10);

        using var added = JsonDocument.Parse(CommandTool.ToJson(CommandTool.Run(server.Endpoint, "add find the cup --kind ground --stream cam0".Split(' '), timeout)));
        Assert.True(added.RootElement.GetProperty("ok").GetBoolean());
        var instruction = added.RootElement.GetProperty("instruction");
        Assert.Equal("find the cup", instruction.GetProperty("spec").GetProperty("text").GetString());
        Assert.Equal("INSTRUCTION_KIND_GROUND", instruction.GetProperty("spec").GetProperty("kind").GetString());
        string id = instruction.GetProperty("id").GetString()!;

        using var listed = JsonDocument.Parse(CommandTool.ToJson(CommandTool.Run(server.Endpoint, ["list"], timeout)));
        Assert.Equal(id, listed.RootElement.GetProperty("instructionList").GetProperty("instructions")[0].GetProperty("id").GetString());

        using var paused = JsonDocument.Parse(CommandTool.ToJson(CommandTool.Run(server.Endpoint, ["pause"], timeout)));
        Assert.True(paused.RootElement.GetProperty("status").GetProperty("paused").GetBoolean());

        using var missing = JsonDocument.Parse(CommandTool.ToJson(CommandTool.Run(server.Endpoint, ["remove", "nope"], timeout)));
        Assert.False(missing.RootElement.TryGetProperty("ok", out _)); // proto3 JSON leaves false out
        Assert.Equal("ERROR_CODE_NOT_FOUND", missing.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(4, book.Calls);
    }

    [Fact]
    public void SubscriberToolDecodesEachTopicKindIntoAJsonLine()
    {
        using var publisher = new ResultPublisher("tcp://127.0.0.1:0");
        using var tool = new SubscriberTool(publisher.Endpoint, Topics.Prefix + "cam0/");
        var text = new TextUpdate { InstructionId = "ask-1", Piece = " red", Text = "A red", PieceIndex = 3 };
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string? line = null;
        while (line is null && DateTime.UtcNow < deadline)
        {
            publisher.Publish(Topics.Text("cam1"), text); // other stream: filtered out
            publisher.Publish(Topics.Text("cam0"), text);
            line = tool.Receive(TimeSpan.FromMilliseconds(100));
        }
        Assert.NotNull(line);
        using var json = JsonDocument.Parse(line!);
        Assert.Equal("ullava/v1/cam0/text", json.RootElement.GetProperty("topic").GetString());
        Assert.Equal("TextUpdate", json.RootElement.GetProperty("type").GetString());
        Assert.Equal("A red", json.RootElement.GetProperty("message").GetProperty("text").GetString());

        Assert.Contains("\"type\":\"NodeStatus\"", SubscriberTool.ToJsonLine(Topics.Status, new NodeStatus { NodeId = "n" }.ToByteArray()));
        Assert.Contains("\"type\":\"MaskSet\"", SubscriberTool.ToJsonLine(Topics.Masks("c"), new MaskSet().ToByteArray()));
        Assert.Contains("\"type\":\"BoxSet\"", SubscriberTool.ToJsonLine(Topics.Boxes("c"), new BoxSet().ToByteArray()));
        Assert.Contains("\"type\":\"CameraCalibration\"", SubscriberTool.ToJsonLine(Topics.Calibration("c"), new CameraCalibration().ToByteArray()));
        Assert.Contains("not a InstructionResult", SubscriberTool.ToJsonLine(Topics.Results("c"), [0xFF, 0xFF]));
        Assert.Contains("no known message type", SubscriberTool.ToJsonLine("ullava/v1/c/other", [1]));
    }
}
