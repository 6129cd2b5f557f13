using ULlava.Perception.Model.Loading;
using TorchSharp;
using ULlava.Perception.Model.Config;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Sam;

/// <summary>
/// Segment Anything (u-LLaVA's <c>visual_model</c>): <c>image_encoder</c>, <c>prompt_encoder</c>, <c>mask_decoder</c>,
/// sized by a <see cref="SamConfig"/>. Loads u-LLaVA checkpoints (prefix <c>visual_model.</c>) and Meta's standalone .pth.
/// </summary>
public sealed class SamModel : nn.Module
{
    private readonly SamImageEncoder image_encoder;
    private readonly SamPromptEncoder prompt_encoder;
    private readonly SamMaskDecoder mask_decoder;

    public SamConfig Config { get; }
    public SamImageEncoder ImageEncoder => image_encoder;
    public SamPromptEncoder PromptEncoder => prompt_encoder;
    public SamMaskDecoder MaskDecoder => mask_decoder;

    public SamModel(SamConfig config, Device? device = null) : base("Sam")
    {
        Config = config;
        image_encoder = new SamImageEncoder(config, device);
        prompt_encoder = new SamPromptEncoder(config, device);
        mask_decoder = new SamMaskDecoder(config, device);
        RegisterComponents();
    }

    /// <summary>Copies weights keyed <c>prefix + image_encoder.*</c> etc. (prefix <c>visual_model.</c> for a u-LLaVA checkpoint).</summary>
    public void LoadWeights(IReadOnlyDictionary<string, Tensor> stateDict, string prefix = "") => StateDictCopy.Into(this, stateDict, prefix);

    /// <summary>Builds SAM from a standalone checkpoint keyed like Meta's <c>sam_vit_h_4b8939.pth</c>.</summary>
    public static SamModel FromPth(string path, SamConfig config)
    {
        var model = new SamModel(config);
        var weights = StateDictCopy.ReadPyTorch(path);
        try
        {
            model.LoadWeights(weights);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
        model.eval();
        return model;
    }

    /// <summary>RGB uint8 H×W×3 → the normalised, padded 1×3×S×S encoder input and the resized size.</summary>
    public (Tensor Input, int ResizedH, int ResizedW) Preprocess(Tensor rgbU8) => Preprocess(rgbU8, Config);

    /// <summary>The same for a SAM of <paramref name="config"/> without the model (the trainer's batch workers).</summary>
    public static (Tensor Input, int ResizedH, int ResizedW) Preprocess(Tensor rgbU8, SamConfig config)
    {
        using var scope = NewDisposeScope();
        var resized = SamTransforms.ResizeLongestSide(rgbU8, config.ImageSize);
        int h = (int)resized.shape[0], w = (int)resized.shape[1];
        return (SamTransforms.NormalizeAndPad(resized, config).MoveToOuterDisposeScope(), h, w);
    }

    /// <summary>Image embeddings 1×C×side×side of an RGB uint8 H×W×3 image.</summary>
    public Tensor EmbedImage(Tensor rgbU8)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (input, _, _) = Preprocess(rgbU8);
        return image_encoder.forward(input).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Prompt encoder + mask decoder + postprocessing for one image: masks logits B×M×H×W in the original frame,
    /// IoU predictions B×M and the low-resolution logits. Point and box coordinates are in the resized frame.
    /// </summary>
    public (Tensor Masks, Tensor IouPredictions, Tensor LowResMasks) Predict(Tensor imageEmbeddings,
        int resizedH, int resizedW, int originalH, int originalW, bool multimaskOutput,
        Tensor? pointCoords = null, Tensor? pointLabels = null, Tensor? boxes = null, Tensor? maskInput = null, Tensor? textEmbeds = null)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (sparse, dense) = prompt_encoder.Forward(pointCoords, pointLabels, boxes, maskInput, textEmbeds);
        var (lowRes, iou) = mask_decoder.Forward(imageEmbeddings, prompt_encoder.GetDensePe(), sparse, dense, multimaskOutput);
        var masks = SamTransforms.PostprocessMasks(lowRes, resizedH, resizedW, originalH, originalW, Config.ImageSize);
        return (masks.MoveToOuterDisposeScope(), iou.MoveToOuterDisposeScope(), lowRes.MoveToOuterDisposeScope());
    }
}
