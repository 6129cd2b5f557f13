using System.Globalization;
using System.Text;
using ULlava.Perception.Messages.V1;

namespace ULlava.Perception.Node.Pipeline;

/// <summary>The readable line the node prints per processed frame.</summary>
public static class FrameReport
{
    public static string Line(FrameHeader header, IReadOnlyList<InstructionResult> results, double frameMs)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{header.StreamId} #{header.Sequence}");
        if (header.HasStreamTimestamp) sb.Append(CultureInfo.InvariantCulture, $" t={header.StreamTimestampNs / 1e9:F2}s");
        foreach (var r in results)
        {
            sb.Append(CultureInfo.InvariantCulture, $" | {r.InstructionId} ");
            if (r.Error.Length > 0)
            {
                sb.Append("error: ").Append(r.Error);
                continue;
            }
            foreach (var m in r.Masks)
                sb.Append(CultureInfo.InvariantCulture, $"mask {m.Area}px box [{m.Bbox.XMin:F0},{m.Bbox.YMin:F0},{m.Bbox.XMax:F0},{m.Bbox.YMax:F0}] iou {m.Score:F2}; ");
            foreach (var b in r.Boxes)
                sb.Append(CultureInfo.InvariantCulture, $"loc [{b.Pixels.XMin:F0},{b.Pixels.YMin:F0},{b.Pixels.XMax:F0},{b.Pixels.YMax:F0}]; ");
            if (r.Text.Length > 0) sb.Append('"').Append(r.Text.Length > 80 ? r.Text[..80] + "…" : r.Text).Append("\" ");
            sb.Append(CultureInfo.InvariantCulture, $"({r.Timings.PrefillMs + r.Timings.DecodeMs + r.Timings.MaskMs:F0} ms)");
        }
        sb.Append(CultureInfo.InvariantCulture, $" | {frameMs:F0} ms");
        return sb.ToString();
    }
}
