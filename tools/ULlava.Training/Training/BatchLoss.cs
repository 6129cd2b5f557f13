using TorchSharp;
using ULlava.Perception.Model;
using ULlava.Perception.Model.Clip;
using ULlava.Perception.Model.Llama;
using ULlava.Training.Samples;
using static TorchSharp.torch;

namespace ULlava.Training.Training;

/// <summary>
/// u-LLaVA's training forward with autograd: CLIP → projector (video: temporal + spatial tokens) spliced into the
/// token embeddings, LLaMA over the right-padded rows (causal, so padding never reaches a real position; a row of
/// several questions about one image runs them after one shared prefix, <see cref="PackedRow"/>), CE on the answers; the [SEG] hidden states → seg_projector → SAM prompt encoder + mask decoder on SAM's image
/// embeddings (low-res logits); the [LOC] ones → det_projector → det_decoder. SAM's Predict/EmbedImage run under
/// no_grad, so the submodules are called directly here.
/// </summary>
public static class BatchLoss
{
    /// <summary>The weighted total (a scalar with a graph, for backward) and its components, one question a row.</summary>
    public static (Tensor Total, LossBreakdown Parts) Compute(ULlavaForCausalLM model, ClipImageProcessor processor, IReadOnlyList<EncodedSample> batch, LossWeights weights)
    {
        using var prepared = TrainingBatch.Prepare(batch, processor, model.Config.Sam);
        return Compute(model, prepared, weights);
    }

    /// <summary>The same on a batch whose image inputs are already made (<see cref="BatchPrefetcher"/>).</summary>
    /// <param name="aids">the run's training-only aids (<see cref="TrainingAids"/>); null: none</param>
    public static (Tensor Total, LossBreakdown Parts) Compute(ULlavaForCausalLM model, TrainingBatch prepared, LossWeights weights, TrainingAids? aids = null)
    {
        var rows = prepared.Rows;
        var batch = prepared.Samples;
        var (referent, referentWeight, locator, locatorWeight, iouHeadWeight, attentionGuide, headBox, headBoxWeight, headAnswer, headAnswerWeight, motion, motionWeight, frameMotion, frameMotionWeight) = aids ?? TrainingAids.None;
        using var scope = NewDisposeScope();
        var device = model.Device;
        // Each question's row and its index in that row.
        var rowOf = new int[batch.Count];
        var inRow = new int[batch.Count];
        for (int r = 0, i = 0; r < rows.Count; r++)
            for (int q = 0; q < rows[r].Questions.Count; q++, i++) (rowOf[i], inRow[i]) = (r, q);
        bool packed = rows.Any(r => r.IsPacked);

        // Vision: every frame of every row in one CLIP pass.
        // A frozen (pretrained) tower runs without a graph: no gradient goes there, and its backward is the dearest part.
        Tensor features;
        using (VisionPretrainer.IsFrozen(model) ? no_grad() : null)
            features = model.VisionTower.forward(prepared.Pixels.to(model.DType, device));
        var embeds = new List<Tensor>();
        // The frame motion probe's first and last projected frame tokens, one pair a clip (a clip asked several questions
        // one a row is still one clip, so packed and lone rows give the same term).
        var firstFrames = new List<Tensor>();
        var lastFrames = new List<Tensor>();
        var clipClasses = new List<long>();
        var clipsSeen = new HashSet<ulong>();
        bool probesFrames = frameMotion is not null && frameMotionWeight > 0;
        int frameAt = 0;
        int maxLength = rows.Max(r => r.Length);
        foreach (var row in rows)
        {
            var first = row.Questions[0];
            int frames = first.Sample.Frames.Count;
            var own = features.narrow(0, frameAt, frames);
            frameAt += frames;
            var visual = model.Projector.forward(first.Sample.IsVideo ? VideoTokens.FromFrameFeatures(own) : own);
            if (probesFrames && FrameMotionProbe.ClassOf(first.Sample) is var clipClass and >= 0 && clipsSeen.Add(first.Sample.Seed))
            {
                firstFrames.Add(visual[0, 0]);
                lastFrames.Add(visual[0, frames - 1]);
                clipClasses.Add(clipClass);
            }
            var e = Splice(model, row, visual);
            if (e.shape[1] < maxLength) e = nn.functional.pad(e, new long[] { 0, 0, 0, maxLength - e.shape[1] });
            embeds.Add(e);
        }
        var labels = tensor(rows.SelectMany(r => r.Labels.Concat(Enumerable.Repeat(ULlavaLosses.IgnoreIndex, maxLength - r.Length))).ToArray(),
                            new long[] { rows.Count, maxLength }).to(device);
        var packing = packed ? Layout(rows, maxLength, device) : null;
        // The guidance and the head box probe read the last layers' queries, keys and values as the forward makes them;
        // their terms outlive that forward's scope.
        var guided = new List<Tensor>();
        var headBoxes = new List<Tensor>();
        var headAnswers = new List<Tensor>();
        var motions = new List<Tensor>();
        // Count answers are guided only beside the answer probe, which came with them: a run without it stays the run it was.
        bool guidesCounts = headAnswer is not null && headAnswerWeight > 0;
        bool probesHeads = headBox is not null && headBoxWeight > 0;
        // The aids read each question's sequence as if it were alone: packed rows are unpacked for them (Unpack), and
        // (Row, Sample) pairs index those sequences.
        var guidedAt = Enumerable.Range(0, batch.Count)
            .Where(i => batch[i].ReferentPatches is not null && (guidesCounts || batch[i].Sample.Kind != TaskKind.Count)).ToList();
        var answeredAt = headAnswer is not null && headAnswerWeight > 0 ? Enumerable.Range(0, batch.Count).Where(i => batch[i].AnswerClass >= 0).ToList() : [];
        var videoAt = motion is not null && motionWeight > 0 ? Enumerable.Range(0, batch.Count).Where(i => batch[i].MotionClass >= 0).ToList() : [];
        bool guides = (attentionGuide > 0 || probesHeads) && guidedAt.Count > 0;
        bool probesAnswers = answeredAt.Count > 0;
        bool probesMotion = videoAt.Count > 0;
        var read = (guides ? guidedAt : []).Concat(answeredAt).Concat(videoAt).Distinct().Order().ToList();
        var slot = read.Select((question, n) => (question, n)).ToDictionary(x => x.question, x => x.n);
        List<(int Row, EncodedSample Sample)> Pairs(List<int> questions) => questions.Select(i => (packed ? slot[i] : i, batch[i])).ToList();
        var guidedSamples = guides ? Pairs(guidedAt) : [];
        var answeredSamples = Pairs(answeredAt);
        var videoSamples = Pairs(videoAt);
        int firstGuided = model.Config.LlmConfig.NumHiddenLayers - AttentionGuide.GuidedLayers;
        if (guides || probesAnswers || probesMotion)
            model.Llm.Model.ObserveAttentionInputs((layer, q, k, v) =>
            {
                if (layer < firstGuided) return;
                if (packed) (q, k, v) = (Unpack(q, rows, rowOf, inRow, read), Unpack(k, rows, rowOf, inRow, read), Unpack(v, rows, rowOf, inRow, read));
                if (attentionGuide > 0 && guidedSamples.Count > 0) guided.Add(AttentionGuide.Loss(q, k, guidedSamples).DetachFromDisposeScope());
                if (probesHeads && guidedSamples.Count > 0) headBoxes.Add(headBox!.Loss(layer - firstGuided, q, k, v, guidedSamples).DetachFromDisposeScope());
                if (probesAnswers) headAnswers.Add(headAnswer!.Loss(layer - firstGuided, q, k, v, answeredSamples).DetachFromDisposeScope());
                if (probesMotion) motions.Add(motion!.Loss(layer - firstGuided, q, k, v, videoSamples).DetachFromDisposeScope());
            });
        LlamaOutput output;
        try
        {
            output = model.Llm.forward(LlamaInput.FromEmbeddings(cat(embeds, 0), null, LogitsPositions.All) with { Packing = packing });
        }
        finally
        {
            model.Llm.Model.ObserveAttentionInputs(null);
        }
        using var disposeOutput = output;
        var guideLoss = MeanOf(guided);
        var headBoxLoss = MeanOf(headBoxes);
        var headAnswerLoss = MeanOf(headAnswers);
        var motionLoss = MeanOf(motions);
        var ce = ULlavaLosses.AnswerCrossEntropy(output.Logits!, labels);
        var total = weights.Ce * ce;
        if (guideLoss is not null) total = total + attentionGuide * guideLoss;
        if (headBoxLoss is not null) total = total + headBoxWeight * headBoxLoss;
        if (headAnswerLoss is not null) total = total + headAnswerWeight * headAnswerLoss;
        if (motionLoss is not null) total = total + motionWeight * motionLoss;
        var frameMotionLoss = clipClasses.Count > 0 ? frameMotion!.Loss(stack(firstFrames), stack(lastFrames), clipClasses.ToArray()) : null;
        if (frameMotionLoss is not null) total = total + frameMotionWeight * frameMotionLoss;

        var withTargets = Enumerable.Range(0, batch.Count).Where(i => batch[i].MaskTarget is not null).ToList();
        double bceValue = 0, diceValue = 0, l1Value = 0, giouValue = 0;
        double? referentValue = referent is null ? null : 0, locatorValue = locator is null ? null : 0, iouHeadValue = iouHeadWeight > 0 ? 0 : null;
        if (withTargets.Count > 0)
        {
            var hidden = output.LastHiddenState;
            var segHidden = stack(withTargets.Select(i => hidden[rowOf[i], rows[rowOf[i]].RowPosition(inRow[i], batch[i].SegHiddenPosition)]).ToArray(), 0);
            var locHidden = stack(withTargets.Select(i => hidden[rowOf[i], rows[rowOf[i]].RowPosition(inRow[i], batch[i].LocHiddenPosition)]).ToArray(), 0);

            var sam = model.Sam;
            Tensor imageEmbeddings;
            using (SamPretrainer.IsEncoderFrozen(model) ? no_grad() : null)
                imageEmbeddings = sam.ImageEncoder.forward(prepared.SamInputs!.to(model.DType, device));
            // One embedding a row with mask questions (in row order), one prompt a question.
            var samRows = Enumerable.Range(0, rows.Count).Where(r => TrainingBatch.NeedsSam(rows[r])).ToList();
            if (withTargets.Count != samRows.Count || withTargets.Any(i => rowOf[i] != samRows[withTargets.IndexOf(i)]))
                imageEmbeddings = imageEmbeddings.index_select(0, tensor(withTargets.Select(i => (long)samRows.IndexOf(rowOf[i])).ToArray()).to(device));
            var text = model.SegProjector.forward(segHidden).unsqueeze(1);
            var (sparse, dense) = sam.PromptEncoder.Forward(textEmbeds: text);
            var (lowRes, iouPred) = sam.MaskDecoder.Forward(imageEmbeddings, sam.PromptEncoder.GetDensePe(), sparse, dense, multimaskOutput: false,
                                                            detachIouToken: iouHeadWeight > 0);
            int side = batch[withTargets[0]].MaskSide;
            var maskTargets = tensor(withTargets.SelectMany(i => batch[i].MaskTarget!).ToArray(), new long[] { withTargets.Count, side, side }).to(device);
            var maskLogits = lowRes[.., 0];
            var bce = ULlavaLosses.MaskBce(maskLogits, maskTargets);
            var dice = ULlavaLosses.MaskDice(maskLogits, maskTargets);

            var boxes = model.DetDecoder.forward(model.DetProjector.forward(locHidden));
            var boxTargets = tensor(withTargets.SelectMany(i => batch[i].BoxTarget!).ToArray(), new long[] { withTargets.Count, 4 }).to(device);
            var l1 = ULlavaLosses.BoxL1(boxes, boxTargets);
            var giou = ULlavaLosses.GIoULoss(boxes, boxTargets);
            total = total + weights.Bce * bce + weights.Dice * dice + weights.L1 * l1 + weights.Iou * giou;
            (bceValue, diceValue, l1Value, giouValue) = (bce.item<float>(), dice.item<float>(), l1.item<float>(), giou.item<float>());
            if (referent is not null)
            {
                var referentLoss = referent.Loss(segHidden, withTargets.Select(i => batch[i]).ToList());
                total = total + referentWeight * referentLoss;
                referentValue = referentLoss.item<float>();
            }
            if (iouHeadWeight > 0)
            {
                var iouHeadLoss = ULlavaLosses.IouHeadMse(iouPred[.., 0], maskLogits, maskTargets);
                total = total + iouHeadWeight * iouHeadLoss;
                iouHeadValue = iouHeadLoss.item<float>();
            }
            if (locator is not null)
            {
                var locatorLoss = locator.Loss(locHidden, withTargets.Select(i => batch[i]).ToList());
                total = total + locatorWeight * locatorLoss;
                locatorValue = locatorLoss.item<float>();
            }
        }
        var parts = new LossBreakdown(total.item<float>(), ce.item<float>(), bceValue, diceValue, l1Value, giouValue, withTargets.Count, referentValue, locatorValue, iouHeadValue,
            attentionGuide > 0 ? guideLoss?.item<float>() ?? 0 : null, probesHeads ? headBoxLoss?.item<float>() ?? 0 : null,
            headAnswer is not null && headAnswerWeight > 0 ? headAnswerLoss?.item<float>() ?? 0 : null,
            motion is not null && motionWeight > 0 ? motionLoss?.item<float>() ?? 0 : null,
            probesFrames ? frameMotionLoss?.item<float>() ?? 0 : null);
        return (total.MoveToOuterDisposeScope(), parts);
    }

    /// <summary>The mean of per-layer loss terms (null for none); the terms are freed, the graph keeps what backward needs.</summary>
    private static Tensor? MeanOf(List<Tensor> terms)
    {
        if (terms.Count == 0) return null;
        var mean = stack(terms).mean();
        foreach (var t in terms) t.Dispose();
        return mean;
    }

    /// <summary>Token embeddings [1,T,H] of a row with the visual features at its placeholder positions (in its shared prefix).</summary>
    private static Tensor Splice(ULlavaForCausalLM model, PackedRow row, Tensor visual)
    {
        var first = row.Questions[0];
        var positions = Enumerable.Range(0, row.PrefixLength).Where(i => row.Ids[i] == first.PlaceholderId).Select(i => (long)i).ToArray();
        if (positions.Length != visual.shape[1])
            throw new InvalidOperationException($"sample {first.Sample.Seed}: {positions.Length} placeholder tokens for {visual.shape[1]} visual features");
        var ids = tensor(row.Ids.Select(i => (long)i).ToArray(), new long[] { 1, row.Length }).to(model.Device);
        var embeds = model.Llm.Embed(ids);
        return embeds.index_copy(1, tensor(positions).to(model.Device), visual.to(embeds.dtype));
    }

    /// <summary>The packed rows' rotary positions [B,T] and attention mask [B,1,T,T] (<see cref="PackedRow.MayAttend"/>), padding included.</summary>
    private static PackedLayout Layout(IReadOnlyList<PackedRow> rows, int length, Device device)
    {
        var positions = new long[rows.Count * length];
        var allowed = new bool[rows.Count * length * length];
        for (int r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            for (int i = 0; i < length; i++)
            {
                positions[r * length + i] = i < row.Length ? row.Positions[i] : row.Positions[^1] + 1 + i - row.Length;
                for (int j = 0; j <= i; j++) allowed[(r * length + i) * length + j] = row.MayAttend(i, j);
            }
        }
        return new PackedLayout(tensor(positions, new long[] { rows.Count, length }).to(device),
                                tensor(allowed, new long[] { rows.Count, 1, length, length }).to(device));
    }

    /// <summary>
    /// One layer's queries, keys or values [B, heads, T, D] of packed rows → the listed questions' own sequences
    /// [N, heads, T', D] (prefix, then the question's tokens; right-padded with position 0), as an unpacked batch has them.
    /// </summary>
    private static Tensor Unpack(Tensor x, IReadOnlyList<PackedRow> rows, int[] rowOf, int[] inRow, IReadOnlyList<int> questions)
    {
        using var scope = NewDisposeScope();
        var sequences = questions.Select(i => rows[rowOf[i]].SequencePositions(inRow[i])).ToList();
        int length = sequences.Max(p => p.Length);
        var index = tensor(sequences.SelectMany(p => p.Concat(Enumerable.Repeat(0L, length - p.Length))).ToArray(), new long[] { questions.Count, 1, length, 1 }).to(x.device);
        var picked = x.index_select(0, tensor(questions.Select(i => (long)rowOf[i]).ToArray()).to(x.device));
        return picked.gather(2, index.expand(questions.Count, x.shape[1], length, x.shape[3])).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The training-only aids of a stage-2 run and their loss weights (null / 0: off): the referent probe on the [SEG]
/// hidden state, the locator probe on the [LOC] one (<see cref="ReferentHead"/>), SAM's IoU head, the attention
/// guidance (<see cref="AttentionGuide"/>), the box and answer probes on what the guided heads read
/// (<see cref="HeadBoxProbe"/>, <see cref="HeadAnswerProbe"/>), the video frames' guidance and probe (<see cref="MotionProbe"/>) and
/// the probe on the projected frame tokens (<see cref="FrameMotionProbe"/>).
/// None of them changes the model's layout; the probes are thrown away.
/// </summary>
public sealed record TrainingAids(
    ReferentHead? Referent = null, double ReferentWeight = 0,
    ReferentHead? Locator = null, double LocatorWeight = 0,
    double IouHeadWeight = 0, double AttentionGuide = 0,
    HeadBoxProbe? HeadBox = null, double HeadBoxWeight = 0,
    HeadAnswerProbe? HeadAnswer = null, double HeadAnswerWeight = 0,
    MotionProbe? Motion = null, double MotionWeight = 0,
    FrameMotionProbe? FrameMotion = null, double FrameMotionWeight = 0)
{
    public static TrainingAids None { get; } = new();
}
