using ULlava.Perception.Model;
using ULlava.Training.Samples;
using ULlava.Training.Scenes;
using ULlava.Training.Training;
using static TorchSharp.torch;

namespace ULlava.Training.Tests;

public sealed class PackedRowTests
{
    private static readonly SampleFactory Factory = new(96, 72);

    [Fact]
    public void QuestionGroupsAskDifferentThingsAboutOneSceneOrClip()
    {
        int videoGroups = 0, imageGroups = 0;
        for (ulong seed = 0; seed < 60; seed++)
        {
            var group = Factory.CreateGroup(seed, 6, askStill: true);
            Assert.InRange(group.Count, 1, 6);
            Assert.All(group, q => Assert.Same(group[0].Frames[0], q.Frames[0])); // one rendering
            Assert.Equal(group.Count, group.Select(q => q.Question).Distinct().Count());
            Assert.True(group.Count(q => q.Kind == TaskKind.Caption) <= 1);
            if (group[0].IsVideo)
            {
                videoGroups++;
                Assert.All(group, q => Assert.Equal(TaskKind.VideoDirection, q.Kind));
                // The first asks about the moving object, as a lone video sample of that seed does; the rest stay still.
                var lone = Factory.Create(seed, TaskKind.VideoDirection);
                if (group.Any(q => q.Question == lone.Question)) Assert.Equal((lone.Question, lone.Answer), (group[0].Question, group[0].Answer));
                Assert.All(group.Skip(1), q => Assert.Equal("Still.", q.Answer));
            }
            else
            {
                imageGroups++;
                Assert.DoesNotContain(group, q => q.IsVideo);
            }
            // Deterministic by seed.
            Assert.Equal(group.Select(q => (q.Question, q.Answer)), Factory.CreateGroup(seed, 6, askStill: true).Select(q => (q.Question, q.Answer)));
            // Without the still objects' questions a clip asks about its moving object alone.
            if (group[0].IsVideo) Assert.Equal(group[0].Question, Assert.Single(Factory.CreateGroup(seed, 6)).Question);
            // One question is the lone sample.
            var one = Assert.Single(Factory.CreateGroup(seed, 1));
            var plain = Factory.Create(seed);
            Assert.Equal((plain.Kind, plain.Question, plain.Answer), (one.Kind, one.Question, one.Answer));
        }
        Assert.InRange(videoGroups, 8, 30); // ~30 %
        Assert.True(imageGroups > 30);
    }

    [Fact]
    public void APackedRowTrainsEachQuestionExactlyAsItsOwnSequence()
    {
        // Rows of several questions about one scene or clip (masks, answers, video) against the same questions one a row:
        // every loss term, the aids' included, and every gradient agree.
        var config = ModelSizes.ByName("tiny");
        var encoder = new SampleEncoder(TokenizerFiles.Load(), config);
        var seeds = Enumerable.Range(0, 200).Select(i => (ulong)i).ToList();
        ulong image = seeds.First(s => Factory.CreateGroup(s, 5) is var g && !g[0].IsVideo && g.Count(q => q.HasTargets) >= 2 && g.Any(q => !q.HasTargets));
        ulong video = seeds.First(s => Factory.CreateGroup(s, 5, askStill: true) is var g && g[0].IsVideo && g.Count >= 2);
        var rows = new[] { image, video }.Select(s => encoder.EncodeRow(Factory.CreateGroup(s, 5, askStill: true))).ToList();
        Assert.All(rows, r => Assert.True(r.IsPacked));
        // The packed row is shorter than its questions apart by the prefix it shares.
        Assert.Equal(rows[0].Questions.Sum(q => q.Ids.Length) - (rows[0].Questions.Count - 1) * rows[0].PrefixLength, rows[0].Length);

        var processor = new Perception.Model.Clip.ClipImageProcessor(ModelSizes.Processor(config));
        int headDim = config.LlmConfig.HiddenSize / config.LlmConfig.NumAttentionHeads;
        manual_seed(3);
        using var model = new ULlavaForCausalLM(config);
        using var referent = new ReferentHead(config.LlmConfig.HiddenSize);
        using var headBox = new HeadBoxProbe(headDim);
        using var headAnswer = new HeadAnswerProbe(headDim);
        using var motion = new MotionProbe(headDim);
        using var frameMotion = new FrameMotionProbe(config.LlmConfig.HiddenSize);
        model.train();
        var aids = new TrainingAids(referent, 1, IouHeadWeight: 1, AttentionGuide: 1, HeadBox: headBox, HeadBoxWeight: 1,
                                    HeadAnswer: headAnswer, HeadAnswerWeight: 1, Motion: motion, MotionWeight: 1,
                                    FrameMotion: frameMotion, FrameMotionWeight: 1);
        var trained = model.named_parameters().Select(p => (Name: p.name, Parameter: p.parameter))
            .Concat(headBox.named_parameters().Select(p => (Name: "box." + p.name, Parameter: p.parameter)))
            .Concat(headAnswer.named_parameters().Select(p => (Name: "answer." + p.name, Parameter: p.parameter))).ToList();

        (LossBreakdown Parts, Dictionary<string, Tensor> Grads) Run(TrainingBatch batch)
        {
            foreach (var (_, p) in trained) p.grad = null;
            var (total, parts) = BatchLoss.Compute(model, batch, new LossWeights(), aids);
            total.backward();
            total.Dispose();
            return (parts, trained.Where(p => p.Parameter.grad is not null).ToDictionary(p => p.Name, p => p.Parameter.grad!.clone()));
        }
        using var packedBatch = TrainingBatch.Prepare(rows, processor, config.Sam);
        using var loneBatch = TrainingBatch.Prepare(rows.SelectMany(r => r.Questions).ToList(), processor, config.Sam);
        Assert.Equal(packedBatch.Samples.Select(s => s.Sample.Question), loneBatch.Samples.Select(s => s.Sample.Question));
        var packed = Run(packedBatch);
        var lone = Run(loneBatch);

        Assert.True(packed.Parts.MaskSamples >= 2 && packed.Parts.Guide > 0 && packed.Parts.HeadBox > 0 && packed.Parts.HeadAnswer > 0 && packed.Parts.Motion > 0 && packed.Parts.FrameMotion > 0, packed.Parts.ToString());
        foreach (var (name, a, b) in new[]
                 {
                     ("total", packed.Parts.Total, lone.Parts.Total), ("ce", packed.Parts.Ce, lone.Parts.Ce), ("bce", packed.Parts.Bce, lone.Parts.Bce),
                     ("dice", packed.Parts.Dice, lone.Parts.Dice), ("l1", packed.Parts.L1, lone.Parts.L1), ("giou", packed.Parts.GIoU, lone.Parts.GIoU),
                     ("referent", packed.Parts.Referent!.Value, lone.Parts.Referent!.Value), ("iou head", packed.Parts.IouHead!.Value, lone.Parts.IouHead!.Value),
                     ("guide", packed.Parts.Guide!.Value, lone.Parts.Guide!.Value), ("head box", packed.Parts.HeadBox!.Value, lone.Parts.HeadBox!.Value),
                     ("head answer", packed.Parts.HeadAnswer!.Value, lone.Parts.HeadAnswer!.Value), ("motion", packed.Parts.Motion!.Value, lone.Parts.Motion!.Value),
                     ("frame motion", packed.Parts.FrameMotion!.Value, lone.Parts.FrameMotion!.Value),
                 })
            Assert.True(Math.Abs(a - b) <= 1e-4 * Math.Max(1, Math.Abs(b)), $"{name}: packed {a} against one a row {b}");
        Assert.Equal(lone.Grads.Keys.Order(), packed.Grads.Keys.Order());
        foreach (var (name, g) in lone.Grads)
        {
            double scale = Math.Max(1e-3, g.abs().max().item<float>());
            double diff = (packed.Grads[name] - g).abs().max().item<float>();
            Assert.True(diff <= 1e-3 * scale, $"{name}: gradients differ by {diff} (largest {scale})");
        }
        foreach (var g in packed.Grads.Values.Concat(lone.Grads.Values)) g.Dispose();
    }

    [Fact]
    public void ARowSharesItsPrefixAndGivesEachQuestionItsOwnPositions()
    {
        var config = ModelSizes.ByName("tiny");
        var encoder = new SampleEncoder(TokenizerFiles.Load(), config);
        var group = Factory.CreateGroup(Enumerable.Range(0, 100).Select(i => (ulong)i).First(s => Factory.CreateGroup(s, 3) is { Count: 3 } g && !g[0].IsVideo), 3);
        var row = encoder.EncodeRow(group);
        int p = row.PrefixLength;
        Assert.Equal(config.LlmConfig.MmTokenIds.ImageEnd, row.Ids[p - 1]);
        for (int q = 0; q < 3; q++)
        {
            var own = row.Questions[q];
            var positions = row.SequencePositions(q);
            // Read back through the row, a question is its own sequence: ids, labels and rotary positions.
            Assert.Equal(own.Ids, positions.Select(i => row.Ids[i]));
            Assert.Equal(own.Labels, positions.Select(i => row.Labels[i]));
            Assert.Equal(Enumerable.Range(0, own.Ids.Length).Select(i => (long)i), positions.Select(i => row.Positions[i]));
            Assert.Equal(3, row.RowPosition(q, 3));
            Assert.Equal(row.Offsets[q] + 2, row.RowPosition(q, p + 2));
        }
        // A question's tokens see the prefix and their own question, never another's.
        int second = row.Offsets[1];
        Assert.True(row.MayAttend(second, 0) && row.MayAttend(second, p - 1) && row.MayAttend(second, second));
        Assert.False(row.MayAttend(second, p)); // the first question's first token
        Assert.False(row.MayAttend(second, second + 1)); // causal
        Assert.True(row.MayAttend(row.Length + 2, row.Length - 1)); // padding sees what is before it
        // A video question does not share an image question's prefix.
        Assert.Throws<ArgumentException>(() => new PackedRow([row.Questions[0], encoder.Encode(Factory.Create(7, TaskKind.VideoDirection))], p));
    }
}
