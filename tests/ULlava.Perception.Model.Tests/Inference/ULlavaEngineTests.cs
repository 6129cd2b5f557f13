using TorchSharp;
using ULlava.Perception.Core.Frames;
using ULlava.Perception.Core.Inference;
using ULlava.Perception.Model.Inference;

namespace ULlava.Perception.Model.Tests.Inference;

[Collection("engine")]
public class ULlavaEngineTests
{
    private static ULlavaEngine Engine => TinyEngine.Instance;

    [Fact]
    public void SegmentTemplateGivesTheReferenceMaskAndBox()
    {
        using var frame = Engine.Encode(TinyEngine.Scene());
        var answer = Engine.Run(frame, new InstructionRequest(TinyEngine.SegQuestion, InstructionKind.Segment));

        var mask = Assert.Single(answer.Masks);
        var expected = Golden.Get("sam_mask_binary")[0, 0].data<byte>().ToArray();
        Assert.Equal((512, 384), (mask.Width, mask.Height));
        Assert.True(Iou(expected, mask.Pixels) >= 0.999, $"mask IoU {Iou(expected, mask.Pixels)}");
        Assert.Equal(Golden.Get("sam_iou_predictions")[0, 0].item<float>(), mask.Score, 4);

        var box = Assert.Single(answer.Boxes);
        var px = Golden.Get("det_boxes_pixels")[0].data<float>().ToArray();
        // Random weights give a box whose corners may cross or leave the frame: reported clamped and ordered.
        float x0 = Math.Clamp(px[0], 0, 512), y0 = Math.Clamp(px[1], 0, 384), x1 = Math.Clamp(px[2], 0, 512), y1 = Math.Clamp(px[3], 0, 384);
        var expectedBox = new[] { Math.Min(x0, x1), Math.Min(y0, y1), Math.Max(x0, x1), Math.Max(y0, y1) };
        Assert.Equal(expectedBox, new[] { box.XMin, box.YMin, box.XMax, box.YMax }, (a, b) => Math.Abs(a - b) <= 1e-3f * 512);
        Assert.Equal("Sure. Mask: ; Location:", answer.Text);
    }

    [Fact]
    public void FusedProjectionsGiveTheUnfusedLogitsAndKeepEveryCheckpointTensor()
    {
        using var unfused = ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = Fixtures.TinyCheckpoint, FuseProjections = false });
        Assert.True(Engine.Model.Llm.Model.ProjectionsFused);
        Assert.False(unfused.Model.Llm.Model.ProjectionsFused);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var ids = torch.tensor(Engine.Tokenizer.Encode(TinyEngine.SegQuestion).Select(i => (long)i).ToArray()).unsqueeze(0);
        using var fusedOut = Engine.Model.Llm.forward(ULlava.Perception.Model.Llama.LlamaInput.FromIds(ids, null, ULlava.Perception.Model.Llama.LogitsPositions.All));
        using var plainOut = unfused.Model.Llm.forward(ULlava.Perception.Model.Llama.LlamaInput.FromIds(ids, null, ULlava.Perception.Model.Llama.LogitsPositions.All));
        TensorAssert.Close(plainOut.Logits!, fusedOut.Logits!, 1e-5);

        // q/k/v and gate/up are views into the stacked matrices now, still under their checkpoint names and values.
        var expected = unfused.Model.state_dict();
        var actual = Engine.Model.state_dict();
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, tensor) in expected) Assert.True(tensor.eq(actual[name]).all().item<bool>(), name);
    }

    [Fact]
    public void FusedNormsAndTheEagerSamKernelGiveTheSameResults()
    {
        // The CPU keeps the elementwise RMSNorm; the CUDA choice is forced here so this machine checks it.
        Assert.False(Engine.Model.Llm.Model.FusedNorms);
        using var baseline = ULlavaEngine.Load(new ULlavaEngineOptions
        {
            ModelDir = Fixtures.TinyCheckpoint, SamAttention = ULlava.Perception.Model.Sam.SamAttentionKernel.Eager,
        });
        using var fused = ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = Fixtures.TinyCheckpoint });
        fused.Model.Llm.Model.FusedNorms = true;
        Assert.True(fused.Model.Llm.Model.FusedNorms);
        using var a = baseline.Encode(TinyEngine.Scene());
        using var b = fused.Encode(TinyEngine.Scene());
        var request = new InstructionRequest(TinyEngine.SegQuestion, InstructionKind.Segment);
        var x = baseline.Run(a, request);
        var y = fused.Run(b, request);
        Assert.True(Iou(x.Masks[0].Pixels, y.Masks[0].Pixels) >= 0.999);
        Assert.Equal(new[] { x.Boxes[0].XMin, x.Boxes[0].YMin, x.Boxes[0].XMax, x.Boxes[0].YMax },
                     new[] { y.Boxes[0].XMin, y.Boxes[0].YMin, y.Boxes[0].XMax, y.Boxes[0].YMax }, (p, q) => Math.Abs(p - q) <= 1e-2f);
        var ask = new InstructionRequest("What is in the image?", InstructionKind.Ask, 12);
        Assert.Equal(baseline.Run(a, ask).Text, fused.Run(b, ask).Text);
    }

    [Fact]
    public void TheCachedSystemPromptGivesTheAnswersOfAWholePrefill()
    {
        using var whole = ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = Fixtures.TinyCheckpoint, CacheSystemPrompt = false });
        // Two frames each: the second reuses the system prompt's KV the first one computed.
        for (ulong i = 0; i < 2; i++)
        {
            using var cachedFrame = Engine.Encode(TinyEngine.Scene(i));
            using var wholeFrame = whole.Encode(TinyEngine.Scene(i));
            var request = new InstructionRequest(TinyEngine.SegQuestion, InstructionKind.Segment);
            var a = Engine.Run(cachedFrame, request);
            var b = whole.Run(wholeFrame, request);
            Assert.True(Iou(b.Masks[0].Pixels, a.Masks[0].Pixels) >= 0.999);
            Assert.Equal(new[] { b.Boxes[0].XMin, b.Boxes[0].YMin, b.Boxes[0].XMax, b.Boxes[0].YMax },
                         new[] { a.Boxes[0].XMin, a.Boxes[0].YMin, a.Boxes[0].XMax, a.Boxes[0].YMax }, (x, y) => Math.Abs(x - y) <= 1e-2f);
            var ask = new InstructionRequest("What is in the image?", InstructionKind.Ask, 12);
            Assert.Equal(whole.Run(wholeFrame, ask).Text, Engine.Run(cachedFrame, ask).Text);
        }
    }

    [Fact]
    public void GroundTemplateGivesTheBoxWithoutRunningSam()
    {
        using var frame = Engine.Encode(TinyEngine.Scene());
        var answer = Engine.Run(frame, new InstructionRequest(TinyEngine.SegQuestion, InstructionKind.Ground));
        Assert.Empty(answer.Masks);
        Assert.Single(answer.Boxes);
        Assert.False(((EncodedFrame)frame).HasSamEmbedding);
    }

    [Fact]
    public void FreeAnswerEqualsTheReferenceGreedyDecodeAndStreamsIt()
    {
        using var frame = Engine.Encode(TinyEngine.Scene());
        var pieces = new List<string>();
        var answer = Engine.Run(frame, new InstructionRequest(TinyEngine.SegQuestion, InstructionKind.Auto, MaxNewTokens: 16), pieces.Add);
        var expectedIds = Golden.Get("seg_greedy_ids")[0].data<long>().ToArray().Select(i => (int)i).TakeWhile(i => i != 2);
        Assert.Equal(Engine.Tokenizer.Decode(expectedIds, skipSpecialTokens: true).Trim(), answer.Text);
        Assert.Equal(answer.Text, string.Concat(pieces).Trim());
        Assert.Equal(16, answer.Timings.GeneratedTokens);
    }

    [Fact]
    public void CaptionOnTheSameFrameReusesTheVisualCacheAndMatchesTheReference()
    {
        using var frame = Engine.Encode(TinyEngine.Scene());
        var first = Engine.Run(frame, new InstructionRequest(TinyEngine.SegQuestion, InstructionKind.Segment));
        var caption = Engine.Run(frame, new InstructionRequest(InstructionRequest.DefaultCaptionQuestion, InstructionKind.Caption, MaxNewTokens: 12));
        Assert.False(first.Timings.VisualCacheHit);
        Assert.True(caption.Timings.VisualCacheHit);
        var expectedIds = Golden.Get("cap_greedy_ids")[0].data<long>().ToArray().Select(i => (int)i).TakeWhile(i => i != 2);
        Assert.Equal(Engine.Tokenizer.Decode(expectedIds, skipSpecialTokens: true).Trim(), caption.Text);
    }

    [Fact]
    public void CachedAndUncachedPathsGiveEqualOutputs()
    {
        var request = new InstructionRequest(TinyEngine.SegQuestion, InstructionKind.Segment);
        using var cached = Engine.Encode(TinyEngine.Scene());
        Engine.Run(cached, new InstructionRequest("What is in the image?", InstructionKind.Ask, MaxNewTokens: 4));
        var warm = Engine.Run(cached, request);
        using var fresh = Engine.Encode(TinyEngine.Scene());
        var cold = Engine.Run(fresh, request);
        Assert.True(warm.Timings.VisualCacheHit);
        Assert.False(cold.Timings.VisualCacheHit);
        // The cold frame's first instruction prefills image and text in one pass, the warm one its text after the cached
        // image: the same arithmetic in GEMMs of other heights, so equal up to float32 rounding.
        Assert.Equal(cold.Masks[0].Pixels, warm.Masks[0].Pixels);
        Assert.Equal(cold.Masks[0].Score, warm.Masks[0].Score, 1e-5f);
        AssertSameBox(cold.Boxes[0], warm.Boxes[0]);
    }

    [Fact]
    public void AFramesFirstInstructionInOnePassAnswersAsInTwo()
    {
        using var twoPass = ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = Fixtures.TinyCheckpoint, OnePassFirstInstruction = false });
        var segment = new InstructionRequest(TinyEngine.SegQuestion, InstructionKind.Segment);
        var ask = new InstructionRequest("What is in the image?", InstructionKind.Ask, MaxNewTokens: 12);
        foreach (var request in new[] { segment, ask })
        {
            using var a = Engine.Encode(TinyEngine.Scene());
            using var b = twoPass.Encode(TinyEngine.Scene());
            var onePassAnswer = Engine.Run(a, request);
            var twoPassAnswer = twoPass.Run(b, request);
            Assert.Equal(twoPassAnswer.Text, onePassAnswer.Text);
            Assert.Equal(twoPassAnswer.Masks.Count, onePassAnswer.Masks.Count);
            for (int i = 0; i < onePassAnswer.Masks.Count; i++)
                Assert.Equal(twoPassAnswer.Masks[i].Pixels, onePassAnswer.Masks[i].Pixels);
            for (int i = 0; i < onePassAnswer.Boxes.Count; i++) AssertSameBox(twoPassAnswer.Boxes[i], onePassAnswer.Boxes[i]);
            // The frame keeps its image's KV either way: a second instruction on it answers alike.
            var again = Engine.Run(a, segment);
            var againTwoPass = twoPass.Run(b, segment);
            Assert.True(again.Timings.VisualCacheHit);
            Assert.Equal(againTwoPass.Masks[0].Pixels, again.Masks[0].Pixels);
            AssertSameBox(againTwoPass.Boxes[0], again.Boxes[0]);
        }
    }

    [Fact]
    public void ABatchOfInstructionsAnswersAsEachOneAlone()
    {
        var requests = new[]
        {
            new InstructionRequest(TinyEngine.SegQuestion, InstructionKind.Segment),
            new InstructionRequest("Please locate the object in this image.", InstructionKind.Ground),
            // Longer and shorter texts: the rows are right-padded to the longest.
            new InstructionRequest("Please segment and locate the small blue square at the top left of this image.", InstructionKind.Segment),
            new InstructionRequest("Segment it.", InstructionKind.Segment),
        };
        // On a fresh frame (the batch prefills the image first) and on one whose image is cached.
        foreach (bool warm in new[] { false, true })
        {
            using var batchFrame = Engine.Encode(TinyEngine.Scene(3));
            using var aloneFrame = Engine.Encode(TinyEngine.Scene(3));
            if (warm) Engine.Run(batchFrame, requests[0]);
            var batch = Engine.RunBatch(batchFrame, requests);
            Assert.Equal(requests.Length, batch.Count);
            for (int i = 0; i < requests.Length; i++)
            {
                var alone = Engine.Run(aloneFrame, requests[i]);
                Assert.Equal(alone.Text, batch[i].Text);
                Assert.Equal(alone.Masks.Count, batch[i].Masks.Count);
                for (int m = 0; m < alone.Masks.Count; m++)
                {
                    Assert.True(Iou(alone.Masks[m].Pixels, batch[i].Masks[m].Pixels) >= 0.999, $"request {i} mask");
                    Assert.Equal(alone.Masks[m].Score, batch[i].Masks[m].Score, 1e-4f);
                }
                Assert.Single(batch[i].Boxes);
                AssertSameBox(alone.Boxes[0], batch[i].Boxes[0]);
                Assert.Equal(alone.Timings.PromptTokens, batch[i].Timings.PromptTokens);
            }
            Assert.Equal(warm, batch[0].Timings.VisualCacheHit);
        }
    }

    [Fact]
    public void ABatchRefusesAQuestionThatGenerates()
    {
        using var frame = Engine.Encode(TinyEngine.Scene());
        var error = Assert.Throws<ArgumentException>(() => Engine.RunBatch(frame, new[]
        {
            new InstructionRequest(TinyEngine.SegQuestion, InstructionKind.Segment),
            new InstructionRequest("What is in the image?", InstructionKind.Ask, 4),
        }));
        Assert.Contains("Ask", error.Message);
        Assert.Empty(Engine.RunBatch(frame, Array.Empty<InstructionRequest>()));
    }

    private static void AssertSameBox(DetectedBox expected, DetectedBox actual)
    {
        Assert.Equal(new[] { expected.XMin, expected.YMin, expected.XMax, expected.YMax },
                     new[] { actual.XMin, actual.YMin, actual.XMax, actual.YMax }, (p, q) => Math.Abs(p - q) <= 1e-3f);
        Assert.Equal(expected.Phrase, actual.Phrase);
    }

    [Fact]
    public void VideoQuestionOverCachedFramesMatchesTheReference()
    {
        var frames = Golden.Get("video_frames_u8");
        var encoded = new List<IEncodedFrame>();
        try
        {
            for (int t = 0; t < frames.shape[0]; t++)
                encoded.Add(Engine.Encode(new Frame(new FrameStamp("cam0", (ulong)t, t), 224, 224, frames[t].contiguous().data<byte>().ToArray())));
            var ids = Golden.Get("video_prompt_ids")[0].data<long>().ToArray().Select(i => (int)i).ToArray();
            string prompt = Engine.Tokenizer.Decode(ids);
            string question = prompt[(prompt.LastIndexOf("\n", StringComparison.Ordinal) + 1)..prompt.LastIndexOf(" ASSISTANT:", StringComparison.Ordinal)];
            var answer = Engine.RunVideo(encoded, new InstructionRequest(question, InstructionKind.Ask, MaxNewTokens: 8));
            var expectedIds = Golden.Get("video_greedy_ids")[0].data<long>().ToArray().Select(i => (int)i).TakeWhile(i => i != 2);
            Assert.Equal(Engine.Tokenizer.Decode(expectedIds, skipSpecialTokens: true).Trim(), answer.Text);
            Assert.Equal(ids.Length, answer.Timings.PromptTokens);
        }
        finally
        {
            foreach (var f in encoded) f.Dispose();
        }
    }

    [Fact]
    public void DisposingDuringACallFreesTheWeightsOnlyWhenTheCallReturns()
    {
        // A stopping node may leave a frame in the model while its owner disposes the engine (another thread in the
        // node; here from the streaming callback, deterministically in the middle of the decode).
        var request = new InstructionRequest(TinyEngine.SegQuestion, InstructionKind.Auto, MaxNewTokens: 16);
        using var reference = Engine.Encode(TinyEngine.Scene());
        string expected = Engine.Run(reference, request).Text;

        using var engine = TinyEngine.Load();
        using var frame = engine.Encode(TinyEngine.Scene());
        int pieces = 0;
        var answer = engine.Run(frame, request, _ =>
        {
            if (++pieces == 2) engine.Dispose();
            Assert.False(engine.IsReleased); // still in use: the decode goes on with its weights
        });
        Assert.Equal(expected, answer.Text);
        Assert.True(engine.IsReleased);
        var refused = Assert.Throws<ObjectDisposedException>(() => engine.Encode(TinyEngine.Scene()));
        Assert.Contains(nameof(ULlavaEngine), refused.Message);
    }

    [Fact]
    public void BadRequestsAreRejectedWithTheirName()
    {
        using var frame = Engine.Encode(TinyEngine.Scene());
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => Engine.Run(frame, new InstructionRequest(" "))).Message);
        Assert.Contains("top-p", Assert.Throws<ArgumentOutOfRangeException>(() => Engine.Run(frame, new InstructionRequest("x", TopP: 0))).Message);
    }

    private static double Iou(byte[] a, byte[] b)
    {
        long inter = 0, union = 0;
        for (int i = 0; i < a.Length; i++)
        {
            bool x = a[i] != 0, y = b[i] != 0;
            if (x && y) inter++;
            if (x || y) union++;
        }
        return union == 0 ? 1 : inter / (double)union;
    }
}
