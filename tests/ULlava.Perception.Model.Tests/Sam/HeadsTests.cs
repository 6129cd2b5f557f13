using TorchSharp;
using ULlava.Perception.Model.Heads;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests.Sam;

/// <summary>seg_projector, det_projector, det_decoder and the box mapping against the reference.</summary>
public class HeadsTests
{
    private readonly ITestOutputHelper output;

    public HeadsTests(ITestOutputHelper output) => this.output = output;

    private static Tensor HiddenAt(string positionsName)
    {
        var hidden = Golden.Get("seg_full_last_hidden");
        return hidden[0].index_select(0, Golden.Get(positionsName));
    }

    [Fact]
    public void SegProjectorMapsTheHiddenStateBeforeSegToSegEmbeddings()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var cfg = TinySam.ULlavaConfig;
        var seg = new TextProjector(cfg.LlmConfig.HiddenSize, cfg.OutDim);
        seg.LoadWeights(TinySam.CheckpointWeights, "seg_projector.");
        // The golden position is the one before [SEG] in the full ids.
        long pos = Golden.Get("seg_hidden_positions")[0].item<long>();
        Assert.Equal(cfg.SegTokenIdx, Golden.Get("seg_full_ids")[0, pos + 1].item<long>());
        TensorAssert.Close(Golden.Get("seg_embeddings"), seg.forward(HiddenAt("seg_hidden_positions")), TensorAssert.Features, "seg_embeddings");
    }

    [Fact]
    public void DetProjectorAndDecoderGiveGoldenBoxesAndPixels()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var cfg = TinySam.ULlavaConfig;
        var det = new TextProjector(cfg.LlmConfig.HiddenSize, cfg.OutDim);
        det.LoadWeights(TinySam.CheckpointWeights, "det_projector.");
        long pos = Golden.Get("loc_hidden_positions")[0].item<long>();
        Assert.Equal(cfg.LocTokenIdx, Golden.Get("seg_full_ids")[0, pos + 1].item<long>());
        var loc = det.forward(HiddenAt("loc_hidden_positions"));
        TensorAssert.Close(Golden.Get("loc_embeddings"), loc, TensorAssert.Features, "loc_embeddings");

        var decoder = new DetDecoder(cfg.OutDim);
        decoder.LoadWeights(TinySam.CheckpointWeights, "det_decoder.");
        var boxes = decoder.forward(Golden.Get("loc_embeddings"));
        var (maxAbs, maxRel) = TensorAssert.Diff(Golden.Get("det_boxes_raw"), boxes);
        output.WriteLine($"det_boxes_raw: max_abs {maxAbs:E3}, max_rel {maxRel:E3}");
        TensorAssert.Close(Golden.Get("det_boxes_raw"), boxes, TensorAssert.Features, "det_boxes_raw");

        var pixels = SquareBoxMapping.ToFramePixels(boxes, TinySam.ImageH, TinySam.ImageW);
        TensorAssert.Close(Golden.Get("det_boxes_pixels"), pixels, TensorAssert.Features, "det_boxes_pixels");
    }

    [Theory]
    [InlineData(384, 512, 0, 64, 512)]
    [InlineData(512, 384, 64, 0, 512)]
    [InlineData(101, 200, 0, 49, 200)]
    [InlineData(300, 300, 0, 0, 300)]
    public void SquareOffsetsCentreTheShorterSideRoundingDown(int h, int w, int padX, int padY, int side)
    {
        Assert.Equal((padX, padY, side), SquareBoxMapping.SquareOffsets(h, w));
    }

    [Fact]
    public void MismatchedCheckpointIsRejectedWithTheKey()
    {
        using var scope = NewDisposeScope();
        var det = new TextProjector(TinySam.ULlavaConfig.LlmConfig.HiddenSize + 1, TinySam.ULlavaConfig.OutDim);
        var e = Assert.Throws<InvalidDataException>(() => det.LoadWeights(TinySam.CheckpointWeights, "det_projector."));
        Assert.Contains("det_projector.0.weight", e.Message);
        var e2 = Assert.Throws<InvalidDataException>(() => new DetDecoder(TinySam.ULlavaConfig.OutDim).LoadWeights(TinySam.CheckpointWeights, "det_projector."));
        Assert.Contains("missing", e2.Message);
    }
}
