using TorchSharp;
using ULlava.Perception.Model.Heads;
using static TorchSharp.torch;

namespace ULlava.Training.Training;

/// <summary>
/// Training-only attention guidance (--attention-guide X): in each of the LLM's last <see cref="GuidedLayers"/> layers, head
/// 0 at the [LOC]-predicting position should spend its attention on the image where the referred object is (cross-entropy
/// of its softmax over the image tokens against the referent's share of each CLIP patch). Why: det_decoder regresses the
/// box from that hidden state, the image tokens already carry their object's box (stage 0), and no run's LLM learned to
/// look there from the box losses alone, nor from a probe asking for the box centre's cell (--locator-weight; cell CE
/// 4.2 → ~3 over 1600 steps, box Acc@0.5 0.00; tools/ULlava.Training/README.md). An attribute question ("What colour is
/// the ring?") is guided the same way at the position predicting its answer's first token, towards the object it asks
/// about: the bundled model answered those from the question alone (exact match 0.09, image reliance ×1.0). With the
/// answer probe on (<see cref="HeadAnswerProbe"/>), a count question is guided towards every object of the shape it names
/// (a count of 0 is not guided here).
/// </summary>
public static class AttentionGuide
{
    public const int GuidedLayers = 2;

    /// <summary>
    /// The referent's share of each patch of a grid×grid CLIP grid over the padded square the frame is centred in (the
    /// CLIP processor pads to square), summing to 1; null for an empty mask.
    /// </summary>
    public static float[]? PatchShares(byte[] mask, int width, int height, int grid)
    {
        var (padX, padY, side) = SquareBoxMapping.SquareOffsets(height, width);
        double patch = (double)side / grid;
        var shares = new float[grid * grid];
        long total = 0;
        for (int y = 0; y < height; y++)
        {
            int row = Math.Min(grid - 1, (int)((y + padY) / patch));
            for (int x = 0; x < width; x++)
            {
                if (mask[y * width + x] == 0) continue;
                shares[row * grid + Math.Min(grid - 1, (int)((x + padX) / patch))]++;
                total++;
            }
        }
        if (total == 0) return null;
        for (int i = 0; i < shares.Length; i++) shares[i] /= total;
        return shares;
    }

    /// <summary>
    /// The guidance loss of one layer's queries and keys [B, heads, T, D] for the given samples (mean over them): soft-target
    /// cross-entropy of head 0's scaled q·k over the sample's image tokens at its <see cref="EncodedSample.GuidePosition"/>.
    /// </summary>
    public static Tensor Loss(Tensor q, Tensor k, IReadOnlyList<(int Row, EncodedSample Sample)> samples)
    {
        using var scope = NewDisposeScope();
        double scale = 1 / Math.Sqrt(q.shape[^1]);
        var terms = new List<Tensor>();
        foreach (var (row, s) in samples)
        {
            if (s.ReferentPatches is null) continue;
            var image = tensor(s.PlaceholderPositions()).to(q.device);
            if (image.shape[0] != s.ReferentPatches.Length)
                throw new InvalidOperationException($"sample {s.Sample.Seed}: {image.shape[0]} image tokens for {s.ReferentPatches.Length} patches");
            var query = q[row, 0, s.GuidePosition];
            var keys = k[row, 0].index_select(0, image);
            var logp = (keys.matmul(query) * scale).log_softmax(0, ScalarType.Float32);
            var target = tensor(s.ReferentPatches).to(q.device);
            terms.Add(-(target * logp).sum());
        }
        var loss = terms.Count == 0 ? zeros(Array.Empty<long>(), device: q.device) : stack(terms).mean();
        return loss.MoveToOuterDisposeScope();
    }
}
