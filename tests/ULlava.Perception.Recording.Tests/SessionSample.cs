using Google.Protobuf;
using ULlava.Perception.Core.Results;
using ULlava.Perception.Messages;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Recording.Session;

namespace ULlava.Perception.Recording.Tests;

/// <summary>A small node session: frames, commands, results with a box and a mask, statuses and a calibration.</summary>
public static class SessionSample
{
    public const long T0 = 1_750_000_000_000_000_000;
    public const long FrameStepNs = 100_000_000;

    public static byte[] Jpeg(int i)
    {
        // Not a decodable image: the recorder stores what the caller encoded, byte for byte.
        var bytes = new byte[2000 + i * 13 % 500];
        new Random(i).NextBytes(bytes);
        bytes[0] = 0xFF;
        bytes[1] = 0xD8;
        return bytes;
    }

    public static FrameHeader Header(int i, string stream = "cam0") => new()
    {
        StreamId = stream,
        Sequence = (ulong)i,
        CaptureTimeUnixNs = T0 + i * FrameStepNs,
        CameraFrameId = stream + "_optical",
    };

    public static Command AddInstruction(int i) => new()
    {
        RequestId = $"r{i}",
        AddInstruction = new AddInstruction { Spec = new InstructionSpec { Text = $"segment the cup {i}", Kind = InstructionKind.Segment } },
    };

    public static InstructionResult Result(int i)
    {
        var mask = new byte[64 * 48];
        for (var y = 10; y < 30; y++)
        {
            for (var x = 20; x < 40; x++)
            {
                mask[y * 64 + x] = 1;
            }
        }
        var result = new InstructionResult
        {
            Header = Header(i),
            InstructionId = "i1",
            Kind = InstructionKind.Segment,
            Instruction = "segment the cup",
            Text = $"the cup {i}",
            FrameWidth = 64,
            FrameHeight = 48,
        };
        var rle = new RleMask { Width = 64, Height = 48 };
        rle.Counts.AddRange(CocoRle.Encode(mask, 64, 48));
        result.Masks.Add(new Mask { Rle = rle, Phrase = "cup", Bbox = new PixelBox { XMin = 20, YMin = 10, XMax = 40, YMax = 30 }, Area = 400 });
        result.Boxes.Add(new Box { Pixels = new PixelBox { XMin = 5, YMin = 6, XMax = 25, YMax = 26 }, Phrase = "cup", Index = 0 });
        return result;
    }

    public static CameraCalibration Calibration() => new()
    {
        StreamId = "cam0",
        FrameId = "cam0_optical",
        Width = 64,
        Height = 48,
        DistortionModel = "plumb_bob",
        D = { 0.1, 0.01, 0, 0, 0 },
        K = { 50, 0, 32, 0, 50, 24, 0, 0, 1 },
        R = { 1, 0, 0, 0, 1, 0, 0, 0, 1 },
        P = { 50, 0, 32, 0, 0, 50, 24, 0, 0, 0, 1, 0 },
    };

    /// <summary>Records <paramref name="frames"/> frames with a result each, a command every 10 and a status every 5.</summary>
    public static SessionExpectation Record(SessionRecorder recorder, int frames)
    {
        recorder.RecordCalibration(Calibration(), T0 - 1);
        int commands = 0, statuses = 0;
        for (var i = 0; i < frames; i++)
        {
            var header = Header(i);
            Assert.True(recorder.RecordFrame(header, "jpeg", Jpeg(i)));
            if (i % 10 == 0)
            {
                Assert.True(recorder.RecordCommand(AddInstruction(i).ToByteArray(), header.CaptureTimeUnixNs + 1));
                commands++;
            }
            var result = Result(i);
            Assert.True(recorder.RecordPublished(Topics.Results("cam0"), result, header.CaptureTimeUnixNs + 5_000_000));
            if (i % 5 == 0)
            {
                Assert.True(recorder.RecordStatus(new NodeStatus { NodeId = "n1", TimeUnixNs = header.CaptureTimeUnixNs + 7, Model = "ullava-7b@abc" }));
                statuses++;
            }
        }
        return new SessionExpectation(frames, commands, frames, statuses, 1);
    }

    public static RecorderOptions Options(string path, string compression = "zstd") => new()
    {
        Path = path,
        Compression = compression,
        ChunkSize = 16 * 1024,
        NodeConfiguration = new Dictionary<string, string> { ["sources"] = "cam0=rtsp://camera/stream", ["sample_fps"] = "10" },
        Model = new ModelIdentity("ullava-7b", "abc123", new Dictionary<string, string> { ["dtype"] = "bf16" }),
    };
}
