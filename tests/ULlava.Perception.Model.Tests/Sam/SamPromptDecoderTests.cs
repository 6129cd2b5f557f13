using TorchSharp;
using ULlava.Perception.Model.Sam;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests.Sam;

/// <summary>Prompt encoder, mask decoder and postprocessing against the reference, fed the golden image embeddings.</summary>
public class SamPromptDecoderTests
{
    private readonly ITestOutputHelper output;

    public SamPromptDecoderTests(ITestOutputHelper output) => this.output = output;

    [Fact]
    public void TextPromptGivesGoldenSparseDenseMasksAndIou()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sam = TinySam.Model;
        var text = Golden.Get("seg_embeddings").unsqueeze(1); // [n_seg, 1, out_dim] as u-LLaVA passes it
        var (sparse, dense) = sam.PromptEncoder.Forward(textEmbeds: text);
        TensorAssert.Close(Golden.Get("sam_sparse_text"), sparse, TensorAssert.Features, "sam_sparse_text");
        Assert.Equal(new long[] { 1, TinySam.Config.PromptEmbedDim, 64, 64 }, dense.shape);
        TensorAssert.Close(Golden.Get("sam_dense_nomask"), dense[.., .., ..2, ..2], TensorAssert.Features, "sam_dense_nomask");

        var (lowRes, iou) = sam.MaskDecoder.Forward(Golden.Get("sam_image_embeddings"), sam.PromptEncoder.GetDensePe(), sparse, dense, multimaskOutput: false);
        Report("sam_low_res_masks", Golden.Get("sam_low_res_masks"), lowRes);
        TensorAssert.Close(Golden.Get("sam_low_res_masks"), lowRes, TensorAssert.Logits, "sam_low_res_masks");
        TensorAssert.Close(Golden.Get("sam_iou_predictions"), iou, TensorAssert.Logits, "sam_iou_predictions");

        var hw = Fixtures.GoldenJson.GetProperty("sam_resize_hw");
        var masks = SamTransforms.PostprocessMasks(lowRes, hw[0].GetInt32(), hw[1].GetInt32(), TinySam.ImageH, TinySam.ImageW, TinySam.Config.ImageSize);
        Report("sam_masks_logits", Golden.Get("sam_masks_logits"), masks);
        TensorAssert.Close(Golden.Get("sam_masks_logits"), masks, TensorAssert.Logits, "sam_masks_logits");
        double iouBinary = BinaryIou(Golden.Get("sam_mask_binary"), masks.gt(0));
        output.WriteLine($"sam_mask_binary IoU {iouBinary:F6}");
        Assert.True(iouBinary >= 0.999, $"binary mask IoU {iouBinary}");
    }

    [Fact]
    public void PredictFromRawSceneMatchesTheTextPromptGoldens()
    {
        using var scope = NewDisposeScope();
        var sam = TinySam.Model;
        var scene = TinySam.Scene();
        var (input, resizedH, resizedW) = sam.Preprocess(scene);
        Assert.Equal((768, 1024), (resizedH, resizedW));
        using var noGrad = no_grad();
        var embeddings = sam.ImageEncoder.forward(input);
        var (masks, iou, lowRes) = sam.Predict(embeddings, resizedH, resizedW, TinySam.ImageH, TinySam.ImageW, multimaskOutput: false,
            textEmbeds: Golden.Get("seg_embeddings").unsqueeze(1));
        TensorAssert.Close(Golden.Get("sam_low_res_masks"), lowRes, TensorAssert.Logits, "sam_low_res_masks");
        TensorAssert.Close(Golden.Get("sam_iou_predictions"), iou, TensorAssert.Logits, "sam_iou_predictions");
        TensorAssert.Close(Golden.Get("sam_masks_logits"), masks, TensorAssert.Logits, "sam_masks_logits");
        Assert.True(BinaryIou(Golden.Get("sam_mask_binary"), masks.gt(0)) >= 0.999);
    }

    [Fact]
    public void PointAndBoxPromptGivesGoldenSparseAndThreeMasks()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sam = TinySam.Model;
        int side = TinySam.Config.ImageSize, h = TinySam.ImageH, w = TinySam.ImageW;
        var px = Golden.Get("sam_point_box_coords_px"); // [x, y, x0, y0, x1, y1]
        Assert.Equal(new float[] { 150, 170, 300, 60, 450, 200 }, px.data<float>().ToArray());
        var point = SamTransforms.ApplyCoords(px[.., ..2].reshape(1, 1, 2), h, w, side);
        var labels = tensor(new long[] { 1 }).reshape(1, 1);
        var box = SamTransforms.ApplyBoxes(px[.., 2..], h, w, side);
        Assert.Equal(new float[] { 300, 340 }, point.data<float>().ToArray());
        Assert.Equal(new float[] { 600, 120, 900, 400 }, box.data<float>().ToArray());

        var (sparse, dense) = sam.PromptEncoder.Forward(point, labels, box);
        TensorAssert.Close(Golden.Get("sam_point_box_sparse"), sparse, TensorAssert.Features, "sam_point_box_sparse");

        var (lowRes, iou) = sam.MaskDecoder.Forward(Golden.Get("sam_image_embeddings"), sam.PromptEncoder.GetDensePe(), sparse, dense, multimaskOutput: true);
        Report("sam_point_box_low_res", Golden.Get("sam_point_box_low_res"), lowRes);
        TensorAssert.Close(Golden.Get("sam_point_box_low_res"), lowRes, TensorAssert.Logits, "sam_point_box_low_res");
        TensorAssert.Close(Golden.Get("sam_point_box_iou"), iou, TensorAssert.Logits, "sam_point_box_iou");

        var masks = SamTransforms.PostprocessMasks(lowRes, 768, 1024, h, w, side);
        Report("sam_point_box_masks_logits", Golden.Get("sam_point_box_masks_logits"), masks);
        TensorAssert.Close(Golden.Get("sam_point_box_masks_logits"), masks, TensorAssert.Logits, "sam_point_box_masks_logits");
    }

    [Fact]
    public void PointsWithoutBoxGetAPaddingPointAndMasksChangeTheDenseEmbedding()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pe = TinySam.Model.PromptEncoder;
        long c = TinySam.Config.PromptEmbedDim;
        var points = tensor(new float[] { 300, 340, 500, 100 }).reshape(1, 2, 2);
        var labels = tensor(new long[] { 1, 0 }).reshape(1, 2);
        var (sparse, dense) = pe.Forward(points, labels);
        Assert.Equal(new long[] { 1, 3, c }, sparse.shape);
        // The pad point is exactly not_a_point_embed, whatever its coordinates encode to.
        TensorAssert.Close(TinySam.CheckpointWeights["visual_model.prompt_encoder.not_a_point_embed.weight"], sparse[0, 2..], 0, "padding point");
        var noMask = TinySam.CheckpointWeights["visual_model.prompt_encoder.no_mask_embed.weight"].reshape(1, c, 1, 1).expand(1, c, 64, 64);
        TensorAssert.Close(noMask, dense, 0, "dense without mask");

        var mask = randn(1, 1, pe.MaskInputSide, pe.MaskInputSide, generator: new Generator(7));
        var (_, maskDense) = pe.Forward(points, labels, masks: mask);
        Assert.Equal(new long[] { 1, c, 64, 64 }, maskDense.shape);
        Assert.False(maskDense.allclose(dense), "a mask prompt replaces the no-mask embedding");
    }

    private void Report(string name, Tensor expected, Tensor actual)
    {
        var (maxAbs, maxRel) = TensorAssert.Diff(expected, actual);
        output.WriteLine($"{name}: max_abs {maxAbs:E3}, max_rel {maxRel:E3}");
    }

    internal static double BinaryIou(Tensor expectedU8, Tensor actualBool)
    {
        using var scope = NewDisposeScope();
        var e = expectedU8.gt(0);
        double inter = logical_and(e, actualBool).sum().item<long>();
        double union = logical_or(e, actualBool).sum().item<long>();
        return union == 0 ? 1.0 : inter / union;
    }
}
