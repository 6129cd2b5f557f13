using ULlava.Perception.Core.Frames;
using ULlava.Perception.Core.Inference;
using ULlava.Perception.Core.Results;
using ULlava.Perception.Messages.V1;

namespace ULlava.Perception.Node.Results;

/// <summary>Turns a model answer into the wire messages: masks as COCO RLE with box and area, boxes in pixels and normalised.</summary>
public static class ResultBuilder
{
    public static FrameHeader Header(FrameStamp stamp) => new()
    {
        StreamId = stamp.StreamId,
        Sequence = stamp.Sequence,
        CaptureTimeUnixNs = stamp.CaptureTimeUnixNs,
        StreamTimestampNs = stamp.StreamTimestampNs ?? 0,
        HasStreamTimestamp = stamp.StreamTimestampNs.HasValue,
    };

    public static InstructionResult Build(FrameStamp stamp, int width, int height, string instructionId, InstructionRequest request,
                                          InstructionAnswer answer, double totalMs)
    {
        var result = new InstructionResult
        {
            Header = Header(stamp),
            InstructionId = instructionId,
            Kind = (Messages.V1.InstructionKind)(int)request.Kind,
            Instruction = request.Text,
            Text = answer.Text,
            FrameWidth = (uint)width,
            FrameHeight = (uint)height,
            Timings = new Timings
            {
                EncodeMs = answer.Timings.EncodeMs,
                PrefillMs = answer.Timings.PrefillMs,
                DecodeMs = answer.Timings.DecodeMs,
                MaskMs = answer.Timings.MaskMs,
                TotalMs = totalMs,
                PromptTokens = (uint)answer.Timings.PromptTokens,
                GeneratedTokens = (uint)answer.Timings.GeneratedTokens,
                VisualCacheHit = answer.Timings.VisualCacheHit,
            },
        };
        foreach (var mask in answer.Masks) result.Masks.Add(Mask(mask));
        foreach (var box in answer.Boxes) result.Boxes.Add(Box(box, width, height));
        return result;
    }

    public static Mask Mask(SegmentationMask mask)
    {
        var geometry = MaskGeometry.Measure(mask.Pixels, mask.Width, mask.Height);
        var rle = new RleMask { Width = (uint)mask.Width, Height = (uint)mask.Height };
        rle.Counts.AddRange(CocoRle.Encode(mask.Pixels, mask.Width, mask.Height));
        return new Mask
        {
            Rle = rle,
            Score = mask.Score,
            Area = (uint)geometry.Area,
            Bbox = new PixelBox { XMin = geometry.XMin, YMin = geometry.YMin, XMax = geometry.XMax, YMax = geometry.YMax },
            Phrase = mask.Phrase ?? "",
            Index = (uint)mask.Index,
        };
    }

    public static Box Box(DetectedBox box, int width, int height) => new()
    {
        Pixels = new PixelBox { XMin = box.XMin, YMin = box.YMin, XMax = box.XMax, YMax = box.YMax },
        Normalized = new PixelBox { XMin = box.XMin / width, YMin = box.YMin / height, XMax = box.XMax / width, YMax = box.YMax / height },
        Score = box.Score,
        Phrase = box.Phrase ?? "",
        Index = (uint)box.Index,
    };

    public static MaskSet MaskSet(InstructionResult result)
    {
        var set = new MaskSet { Header = result.Header, InstructionId = result.InstructionId };
        set.Masks.AddRange(result.Masks);
        return set;
    }

    public static BoxSet BoxSet(InstructionResult result)
    {
        var set = new BoxSet { Header = result.Header, InstructionId = result.InstructionId };
        set.Boxes.AddRange(result.Boxes);
        return set;
    }
}
