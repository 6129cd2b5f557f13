using System.Collections.Concurrent;
using OpenCvSharp;
using ULlava.Perception.Core.Results;
using ULlava.Perception.Node.Pipeline;

namespace ULlava.Perception.Web.Tests;

/// <summary>
/// Which processed frame a picture (a JPEG part, a screenshot) shows, and how closely: the picture's frame area is
/// compared with each recent frame as annotated and as it came from the source. Both images are blurred first, so
/// JPEG's block noise (large on the fixture's speckled masks) does not count and the overlay's tint does.
/// </summary>
internal sealed class FrameLog
{
    private readonly ConcurrentDictionary<ulong, ProcessedFrame> frames = new();

    public void Add(ProcessedFrame frame)
    {
        frames[frame.Frame.Stamp.Sequence] = frame;
        foreach (ulong old in frames.Keys.Where(k => k + 30 < frame.Frame.Stamp.Sequence)) frames.TryRemove(old, out _);
    }

    public IReadOnlyList<ProcessedFrame> Recent => frames.Values.OrderBy(f => f.Frame.Stamp.Sequence).ToList();

    /// <summary>
    /// The best-matching frame (or the frame <paramref name="sequence"/>); its mean differences from the annotated and
    /// the raw rendering, overall and over its mask pixels. Neighbouring frames of the slow sample video differ little
    /// after the blur, so the best match is not always the very frame shown: the part headers name it.
    /// </summary>
    public Match Find(Mat picture, Rect area, ulong? sequence = null)
    {
        using var shown = Blurred(picture, area);
        Match? best = null;
        double runnerUp = double.PositiveInfinity;
        foreach (var candidate in Recent.Where(f => sequence is null || f.Frame.Stamp.Sequence == sequence))
        {
            using var annotatedFull = FrameAnnotator.Render(candidate, 0, false);
            using var annotated = Blurred(annotatedFull, area);
            using var rawFull = Pixels.FromFrame(candidate.Frame);
            using var raw = Blurred(rawFull, area);
            var rle = candidate.Results.Single().Masks.Single().Rle;
            using var mask = Mat.FromPixelData((int)rle.Height, (int)rle.Width, MatType.CV_8UC1, CocoRle.Decode(rle.Counts, (int)rle.Width, (int)rle.Height));
            var match = new Match(candidate, MeanDiff(shown, annotated, null), MeanDiff(shown, raw, null), MeanDiff(shown, annotated, mask), MeanDiff(shown, raw, mask));
            if (best is null || match.Annotated < best.Annotated)
            {
                if (best is not null) runnerUp = best.Annotated;
                best = match;
            }
            else runnerUp = Math.Min(runnerUp, match.Annotated);
        }
        return (best ?? throw new InvalidOperationException("no processed frame to compare with")) with { RunnerUp = runnerUp };
    }

    private static Mat Blurred(Mat image, Rect area)
    {
        using var roi = new Mat(image, area);
        var blurred = new Mat();
        Cv2.Blur(roi, blurred, new Size(7, 7));
        return blurred;
    }

    private static double MeanDiff(Mat a, Mat b, Mat? mask)
    {
        using var diff = new Mat();
        Cv2.Absdiff(a, b, diff);
        var mean = mask is null ? Cv2.Mean(diff) : Cv2.Mean(diff, mask);
        return (mean.Val0 + mean.Val1 + mean.Val2) / 3;
    }

    public sealed record Match(ProcessedFrame Frame, double Annotated, double Raw, double AnnotatedOnMask, double RawOnMask)
    {
        /// <summary>How far the next-closest frame's annotated rendering is (infinity with one candidate).</summary>
        public double RunnerUp { get; init; } = double.PositiveInfinity;

        public ulong Sequence => Frame.Frame.Stamp.Sequence;

        /// <summary>The picture is this frame annotated: near its annotated rendering, clearly away from the raw frame, and its mask pixels tinted.</summary>
        public string? Problem =>
            Annotated > 4 ? $"closest frame #{Sequence} still differs by {Annotated:0.0} per channel from its annotated rendering" :
            Raw < Annotated + 4 ? $"frame #{Sequence}: as close to the raw frame ({Raw:0.0}) as to the annotated one ({Annotated:0.0}): no overlay" :
            RawOnMask < AnnotatedOnMask + 5 ? $"frame #{Sequence}: its mask pixels are not tinted ({RawOnMask:0.0} from raw, {AnnotatedOnMask:0.0} from annotated)" :
            null;

        public override string ToString() =>
            $"#{Sequence}: {Annotated:0.0} from annotated (next frame {RunnerUp:0.0}), {Raw:0.0} from raw; on the mask {AnnotatedOnMask:0.0} and {RawOnMask:0.0}";
    }
}
