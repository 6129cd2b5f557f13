using ULlava.Perception.Model.Tokenization;
using ULlava.Training.Samples;
using ULlava.Training.Training;

namespace ULlava.Training.Tests;

public sealed class SampleTests
{
    private static readonly Lazy<ULlavaTokenizer> Tokenizer = new(TokenizerFiles.Load);

    [Fact]
    public void MaskSamplesNameTheirReferentsColourShapeAndCell()
    {
        var factory = new SampleFactory(160, 120);
        var encoder = new SampleEncoder(Tokenizer.Value, ModelSizes.ByName("tiny"));
        int checkedSamples = 0;
        for (ulong seed = 0; checkedSamples < 20; seed++)
        {
            var kind = seed % 2 == 0 ? TaskKind.ReferringSegmentation : TaskKind.Caption;
            var sample = factory.Create(seed, kind);
            var encoded = encoder.Encode(sample);
            if (kind != TaskKind.ReferringSegmentation)
            {
                Assert.Equal((-1, -1, -1), (encoded.ReferentColour, encoded.ReferentShape, encoded.ReferentCell));
                continue;
            }
            var scene = factory.Generator.Generate(seed);
            var target = scene.Objects.First(o => o.Phrase == sample.Phrase);
            Assert.Equal(target.Colour, ULlava.Training.Scenes.SceneColour.Palette[encoded.ReferentColour]);
            Assert.Equal((int)target.Shape, encoded.ReferentShape);
            // The locator's cell: the box centre on the 8×8 grid over the square the frame is centred in (160×120: 20 px bars above and below).
            float cx = (target.Box.XMin + target.Box.XMax) / 2, cy = (target.Box.YMin + target.Box.YMax) / 2 + 20;
            Assert.Equal((int)(cy / 160 * ReferentHead.Grid) * ReferentHead.Grid + (int)(cx / 160 * ReferentHead.Grid), encoded.ReferentCell);
            checkedSamples++;
        }
        Assert.Equal((-1, -1), ReferentHead.Targets("blue"));
        Assert.Equal((-1, -1), ReferentHead.Targets("violet circle"));
        Assert.Equal(-1, ReferentHead.CellOf(null));
        Assert.Equal(ReferentHead.Grid * ReferentHead.Grid - 1, ReferentHead.CellOf([0.9f, 0.9f, 1f, 1f]));
    }

    [Fact]
    public void ReferentPatchSharesFollowTheCentredSquare()
    {
        // 160×120 is centred in a 160 px square (20 px above and below); a 10×10 grid has 16 px patches.
        var mask = new byte[160 * 120];
        for (int y = 0; y < 10; y++)
        for (int x = 0; x < 16; x++) mask[y * 160 + x] = 1;          // rows 20–29 of the square: patch (1, 0)
        for (int y = 92; y < 100; y++)
        for (int x = 152; x < 160; x++) mask[y * 160 + x] = 1;       // rows 112–119, columns 152–159: patch (7, 9)
        var shares = AttentionGuide.PatchShares(mask, 160, 120, 10)!;
        Assert.Equal(160f / 224, shares[1 * 10 + 0], 5);
        Assert.Equal(64f / 224, shares[7 * 10 + 9], 5);
        Assert.Equal(1, shares.Sum(), 5);
        Assert.Null(AttentionGuide.PatchShares(new byte[160 * 120], 160, 120, 10));
    }

    [Fact]
    public void GuidanceLooksAtTheReferentFromLocAndAtTheAskedObjectsFromAnAttributeOrCountAnswer()
    {
        var factory = new SampleFactory(160, 120);
        var config = ModelSizes.ByName("tiny");
        var encoder = new SampleEncoder(Tokenizer.Value, config);
        int grid = config.LlmConfig.VisionConfig.PatchesPerSide;
        int attributes = 0, zeroCounts = 0, counts = 0;
        var kinds = new[] { TaskKind.ReferringSegmentation, TaskKind.Attribute, TaskKind.Count, TaskKind.VideoDirection, TaskKind.Caption };
        for (ulong seed = 0; seed < 60; seed++)
        {
            var sample = factory.Create(seed, kinds[seed % (ulong)kinds.Length]);
            var encoded = encoder.Encode(sample);
            Assert.Equal(sample.Kind == TaskKind.VideoDirection ? (int)Enum.Parse<ULlava.Training.Scenes.MotionDirection>(sample.Answer.TrimEnd('.')) : -1,
                         encoded.MotionClass);
            switch (sample.Kind)
            {
                case TaskKind.ReferringSegmentation:
                    Assert.Equal(encoded.LocHiddenPosition, encoded.GuidePosition);
                    Assert.Equal(AttentionGuide.PatchShares(sample.Mask!, 160, 120, grid), encoded.ReferentPatches);
                    Assert.Equal(-1, encoded.AnswerClass);
                    break;
                case TaskKind.Count:
                {
                    // Every object of the asked shape; none (no patches, still an answer to probe) for a count of 0.
                    var scene = factory.Generator.Generate(seed);
                    var counted = scene.Objects.Where(o => sample.Question == SampleText.CountQuestion(o.Shape)).ToList();
                    Assert.Equal(counted.Count + ".", sample.Answer);
                    if (counted.Count == 0)
                    {
                        Assert.Null(sample.Focus);
                        Assert.Null(encoded.ReferentPatches);
                        zeroCounts++;
                    }
                    else
                    {
                        var union = new byte[160 * 120];
                        for (int i = 0; i < union.Length; i++) union[i] = (byte)(counted.Any(o => o.Mask[i] != 0) ? 1 : 0);
                        Assert.Equal(union, sample.Focus);
                        Assert.Equal(AttentionGuide.PatchShares(union, 160, 120, grid), encoded.ReferentPatches);
                        counts++;
                    }
                    Assert.Equal(encoded.PromptLength - 1, encoded.GuidePosition);
                    Assert.Equal(HeadAnswerProbe.Colours + HeadAnswerProbe.Shapes + counted.Count, encoded.AnswerClass);
                    break;
                }
                case TaskKind.Attribute:
                {
                    // The object asked about: the one shape or colour the question names (the answer names the other).
                    var scene = factory.Generator.Generate(seed);
                    var asked = scene.Objects.Single(o => sample.Answer.TrimEnd('.').Equals(sample.Question.StartsWith("What colour", StringComparison.Ordinal)
                        ? o.Colour.Name : ULlava.Training.Scenes.ShapeNames.Of(o.Shape), StringComparison.OrdinalIgnoreCase)
                        && sample.Question.Contains(sample.Question.StartsWith("What colour", StringComparison.Ordinal) ? ULlava.Training.Scenes.ShapeNames.Of(o.Shape) : o.Colour.Name, StringComparison.Ordinal));
                    Assert.Equal(asked.Mask, sample.Focus);
                    Assert.Equal(AttentionGuide.PatchShares(asked.Mask, 160, 120, grid), encoded.ReferentPatches);
                    // The position that predicts the answer's first token (the last of the prompt).
                    Assert.Equal(encoded.PromptLength - 1, encoded.GuidePosition);
                    Assert.NotEqual(-100, encoded.Labels[encoded.GuidePosition + 1]);
                    Assert.Equal(-100, encoded.Labels[encoded.GuidePosition]);
                    // Its class: the colour, or the shape after the colours.
                    string named = sample.Answer.TrimEnd('.').ToLowerInvariant();
                    Assert.Equal(sample.Question.StartsWith("What colour", StringComparison.Ordinal)
                        ? ULlava.Training.Scenes.SceneColour.Palette.ToList().FindIndex(c => c.Name == named)
                        : HeadAnswerProbe.Colours + (int)asked.Shape, encoded.AnswerClass);
                    attributes++;
                    break;
                }
                default:
                    Assert.Equal((-1, (float[]?)null, -1), (encoded.GuidePosition, encoded.ReferentPatches, encoded.AnswerClass));
                    break;
            }
        }
        Assert.True(attributes >= 5, $"{attributes} attribute samples");
        Assert.True(zeroCounts >= 2 && counts >= 2, $"{zeroCounts} counts of 0, {counts} others");
    }

    [Fact]
    public void TheNodesCaptionWordingIsATrainedQuestion()
    {
        // The node asks this when --caption or a caption request has no text; an untrained wording is read as another task.
        Assert.Contains(Perception.Core.Inference.InstructionRequest.DefaultCaptionQuestion, SampleText.CaptionQuestions);
    }

    [Fact]
    public void CountAnswersAreNotOneMajorityAnswer()
    {
        // Asked only about present shapes, 69 % of the answers were "1." and a model could score that without the image.
        var factory = new SampleFactory(320, 240);
        var answers = Enumerable.Range(0, 300).Select(i => factory.Create(ULlava.Training.Scenes.SplitSeeds.Seed(ULlava.Training.Scenes.DataSplit.Validation, (ulong)i), TaskKind.Count).Answer).ToList();
        double Share(string answer) => answers.Count(a => a == answer) / (double)answers.Count;
        Assert.True(answers.GroupBy(a => a).Max(g => g.Count()) <= 0.55 * answers.Count, string.Join(", ", answers.GroupBy(a => a).Select(g => $"{g.Key} {g.Count()}")));
        Assert.True(Share("0.") >= 0.25 && Share("1.") >= 0.25, $"0: {Share("0.")}, 1: {Share("1.")}");
        Assert.Contains("2.", answers);
    }

    [Fact]
    public void EveryTaskTokenisesAndRoundTrips()
    {
        var config = ModelSizes.Default;
        var encoder = new SampleEncoder(Tokenizer.Value, config);
        var factory = new SampleFactory(160, 120);
        int eos = Tokenizer.Value.EosId;
        foreach (var kind in Enum.GetValues<TaskKind>())
        {
            for (ulong seed = 0; seed < 25; seed++)
            {
                var sample = factory.Create(seed * 7919 + (ulong)kind, kind);
                var encoded = encoder.Encode(sample);
                // The answer's tokens: supervised, ending with </s>, decoding back to the answer text.
                var answerIds = encoded.Ids[encoded.PromptLength..];
                Assert.Equal(answerIds.Select(i => (long)i), encoded.Labels[encoded.PromptLength..]);
                Assert.All(encoded.Labels[..encoded.PromptLength], l => Assert.Equal(ULlavaLosses.IgnoreIndex, l));
                Assert.Equal(eos, answerIds[^1]);
                Assert.Equal(sample.Answer, Tokenizer.Value.Decode(answerIds[..^1]).Trim());
                Assert.DoesNotContain(Tokenizer.Value.UnkId, encoded.Ids);
                // The question survives too, and the placeholders are exactly the visual token count.
                var (prompt, _) = encoder.Texts(sample);
                Assert.Equal(prompt, Tokenizer.Value.Decode(encoded.Ids[1..encoded.PromptLength]));
                int expected = config.LlmConfig.VisionConfig.NumPatches + (sample.IsVideo ? sample.Frames.Count : 0);
                Assert.Equal(expected, encoded.Ids.Count(i => i == encoded.PlaceholderId));
                if (sample.HasTargets)
                {
                    Assert.Equal(config.SegTokenIdx, encoded.Ids[encoded.SegHiddenPosition + 1]);
                    Assert.Equal(config.LocTokenIdx, encoded.Ids[encoded.LocHiddenPosition + 1]);
                    Assert.StartsWith($"Sure. Mask: [SEG]; Location: [LOC]; [tag]{sample.Phrase}[/tag].", sample.Answer);
                }
            }
        }
    }

    [Fact]
    public void AnswersAreCanonical()
    {
        var factory = new SampleFactory(160, 120);
        var scene = factory.Generator.Generate(5);
        string caption = SampleText.Caption(scene.Objects);
        Assert.EndsWith(".", caption);
        Assert.Equal(caption, SampleText.Caption(scene.Objects.Reverse()));
        Assert.Equal("2.", SampleText.CountAnswer(2));
        Assert.Equal("How many circles are there?", SampleText.CountQuestion(Scenes.ShapeKind.Circle));
        var video = factory.Create(3, TaskKind.VideoDirection);
        Assert.Contains(video.Answer, new[] { "Left.", "Right.", "Up.", "Down.", "Still." });
        Assert.Equal(SampleFactory.ClipFrames, video.Frames.Count);
    }

    [Fact]
    public void MaskTargetCoversTheMaskInSamsLowResFrame()
    {
        var config = ModelSizes.Default;
        var encoder = new SampleEncoder(Tokenizer.Value, config);
        var sample = new SampleFactory(640, 480).Create(11, TaskKind.ReferringSegmentation);
        var target = encoder.MaskTarget(sample.Mask!, sample.Width, sample.Height);
        int side = encoder.MaskSide;
        Assert.Equal(side * side, target.Length);
        // Area is preserved: each cell holds the covered share of its image pixels.
        int rows = (int)Math.Round(side * 480.0 / 640);
        double cellPixels = 640.0 * 480 / (side * rows);
        double area = target.Sum(v => (double)v) * cellPixels;
        Assert.InRange(area, sample.Mask!.Count(b => b != 0) * 0.97, sample.Mask!.Count(b => b != 0) * 1.03);
        // The padding below the resized image is empty.
        Assert.All(target[(rows * side)..], v => Assert.Equal(0f, v));
        // The box's centre cell is mostly inside where the mask's centre pixel is.
        var box = SampleEncoder.NormalisedBox(sample);
        Assert.All(box, v => Assert.InRange(v, 0f, 1f));
    }
}
