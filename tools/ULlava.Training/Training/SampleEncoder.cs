using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Heads;
using ULlava.Perception.Model.Sam;
using ULlava.Perception.Model.Tokenization;
using ULlava.Training.Samples;

namespace ULlava.Training.Training;

/// <summary>
/// Renders samples in u-LLaVA's conversation format (conv_sep2, the image or video placeholder, "\n", the question;
/// the answer closed by &lt;/s&gt;) exactly as <c>ULlavaEngine</c> prompts at inference, tokenises them and builds the
/// targets.
/// </summary>
public sealed class SampleEncoder
{
    private readonly ULlavaConfig config;
    private readonly ConversationTemplate template = ConversationTemplate.Sep2;

    public SampleEncoder(ULlavaTokenizer tokenizer, ULlavaConfig config)
    {
        Tokenizer = tokenizer;
        this.config = config;
    }

    public ULlavaTokenizer Tokenizer { get; }

    /// <summary>Side of SAM's low-resolution mask output (4 × the embedding grid), the resolution masks are trained at.</summary>
    public int MaskSide => 4 * config.Sam.EmbeddingSide;

    /// <summary>CLIP patches per side (the image tokens are this grid in raster order).</summary>
    public int PatchGrid => config.LlmConfig.VisionConfig.PatchesPerSide;

    public string UserMessage(TrainingSample sample)
    {
        int patches = config.LlmConfig.VisionConfig.NumPatches;
        string placeholder = sample.IsVideo
            ? ConversationTemplate.VideoPlaceholder(sample.Frames.Count, patches)
            : ConversationTemplate.ImagePlaceholder(patches);
        return placeholder + "\n" + sample.Question;
    }

    /// <summary>The prompt the engine sends (ending "ASSISTANT:") and the full training text (prompt + " answer&lt;/s&gt;").</summary>
    public (string Prompt, string Full) Texts(TrainingSample sample)
    {
        string user = UserMessage(sample);
        return (template.Prompt(user), template.PromptWithAnswer(user, sample.Answer));
    }

    public EncodedSample Encode(TrainingSample sample)
    {
        var (prompt, full) = Texts(sample);
        int[] promptIds = Tokenizer.Encode(prompt);
        int[] ids = Tokenizer.Encode(full);
        if (ids.Length <= promptIds.Length || !ids.AsSpan(0, promptIds.Length).SequenceEqual(promptIds))
            throw new InvalidOperationException($"sample {sample.Seed}: the prompt's tokens are not a prefix of prompt + answer");
        var labels = new long[ids.Length];
        for (int i = 0; i < ids.Length; i++) labels[i] = i < promptIds.Length ? ULlavaLosses.IgnoreIndex : ids[i];

        int seg = -1, loc = -1;
        float[]? mask = null, box = null;
        if (sample.HasTargets)
        {
            seg = Array.IndexOf(ids, config.SegTokenIdx, promptIds.Length);
            loc = Array.IndexOf(ids, config.LocTokenIdx, promptIds.Length);
            if (seg < 0 || loc < 0) throw new InvalidOperationException($"sample {sample.Seed}: a mask sample's answer lacks [SEG] or [LOC]");
            mask = MaskTarget(sample.Mask!, sample.Width, sample.Height);
            box = NormalisedBox(sample);
        }
        int placeholder = sample.IsVideo ? config.LlmConfig.MmTokenIds.VideoPatch : config.LlmConfig.MmTokenIds.ImagePatch;
        var (colour, shape) = sample.HasTargets ? ReferentHead.Targets(sample.Phrase) : (-1, -1);
        // The attention guidance: a mask sample's [LOC]-predicting position looks at its referent, an attribute or count
        // answer's first position at the object(s) asked about (a count only beside the answer probe: BatchLoss).
        var focus = sample.IsVideo ? null : sample.HasTargets ? sample.Mask : sample.Focus;
        var patches = focus is null ? null : AttentionGuide.PatchShares(focus, sample.Width, sample.Height, PatchGrid);
        int answerClass = HeadAnswerProbe.ClassOf(sample);
        int guideAt = sample.HasTargets ? (patches is null ? -1 : loc - 1) : patches is not null || answerClass >= 0 ? promptIds.Length - 1 : -1;
        return new EncodedSample(sample, ids, labels, promptIds.Length, placeholder, seg - 1, loc - 1, mask, MaskSide, box, colour, shape, ReferentHead.CellOf(box),
            patches, guideAt, answerClass, MotionProbe.ClassOf(sample));
    }

    /// <summary>
    /// Questions about one scene (<see cref="SampleFactory.CreateGroup"/>) as one training row: the prefix through the
    /// image or video end token once, then each question's own tokens (<see cref="PackedRow"/>).
    /// </summary>
    public PackedRow EncodeRow(IReadOnlyList<TrainingSample> questions)
    {
        var encoded = questions.Select(Encode).ToList();
        var mm = config.LlmConfig.MmTokenIds;
        int end = Array.IndexOf(encoded[0].Ids, encoded[0].Sample.IsVideo ? mm.VideoEnd : mm.ImageEnd);
        if (end < 0) throw new InvalidOperationException($"sample {questions[0].Seed}: no image or video end token in its prompt");
        return new PackedRow(encoded, end + 1);
    }

    /// <summary>
    /// The mask in SAM's low-res frame: the image is resized so its long side is SAM's input side and padded at the
    /// bottom and right; each low-res cell's target is the share of its image pixels inside the mask (0 in the padding).
    /// </summary>
    public float[] MaskTarget(byte[] mask, int width, int height) => MaskTarget(mask, width, height, config.Sam);

    /// <summary>The same for a SAM of <paramref name="sam"/>'s shapes (stage 1 has no tokenizer).</summary>
    public static float[] MaskTarget(byte[] mask, int width, int height, SamConfig sam)
    {
        int side = 4 * sam.EmbeddingSide, input = sam.ImageSize;
        var (rh, rw) = SamTransforms.GetPreprocessShape(height, width, input);
        double cellsPerPixelX = (double)rw / width * side / input, cellsPerPixelY = (double)rh / height * side / input;
        var inside = new float[side * side];
        var total = new float[side * side];
        for (int y = 0; y < height; y++)
        {
            int cy = Math.Min(side - 1, (int)((y + 0.5) * cellsPerPixelY));
            for (int x = 0; x < width; x++)
            {
                int cell = cy * side + Math.Min(side - 1, (int)((x + 0.5) * cellsPerPixelX));
                total[cell]++;
                if (mask[y * width + x] != 0) inside[cell]++;
            }
        }
        for (int i = 0; i < inside.Length; i++) inside[i] = total[i] > 0 ? inside[i] / total[i] : 0;
        return inside;
    }

    /// <summary>The box as the det head predicts it: xyxy normalised to the square the frame is centred in.</summary>
    public static float[] NormalisedBox(TrainingSample sample)
    {
        var b = sample.Box ?? throw new ArgumentException("the sample has no box", nameof(sample));
        var (padX, padY, side) = SquareBoxMapping.SquareOffsets(sample.Height, sample.Width);
        return [(b.XMin + padX) / side, (b.YMin + padY) / side, (b.XMax + padX) / side, (b.YMax + padY) / side];
    }
}
