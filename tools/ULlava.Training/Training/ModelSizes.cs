using ULlava.Perception.Model.Config;

namespace ULlava.Training.Training;

/// <summary>
/// The u-LLaVA sizes the trainer builds. <see cref="Default"/> is the shipped model (7.1M parameters, 28.4 MB in
/// float32), sized for a 15 fps standing segmentation at 640×480 on two CPU cores, where every frame pays CLIP, the
/// whole LLaMA prefill (~190 tokens: 66 of system prompt, 100 image tokens, the instruction) and SAM:
/// a 320 px / patch-32 CLIP, 192 wide, 4 layers (100 image tokens keep the prefill short; ~0.6 GFLOP; at 160 px / 16 px
/// an object was 8–20 px across and the tokens named its shape for 0.18 of held-out objects, ObjectFeatureProbe);
/// a 4-layer 256-wide LLaMA with grouped-query attention (8 query, 2 KV heads; ~0.9 GFLOP for the prefill);
/// a 320 px SAM, 128 wide, 4 blocks with 10×10 windows and one global layer over its 20×20 grid (~0.9 GFLOP), whose
/// 80×80 low-res masks give 8 px cells on a 640 px frame. Measured on the shared dev CPU with one thread, a 384 px SAM
/// made the frame ~50% dearer (mask stage ~108 ms against ~62 ms), hence 320. <see cref="Tiny"/> is for tests.
/// </summary>
public static class ModelSizes
{
    /// <summary>The fixture tokenizer: 512 SentencePiece pieces and u-LLaVA's 11 added tokens.</summary>
    public const int VocabSize = 523;

    private static readonly MultimodalTokenIds TokenIds = new()
    {
        ImagePatch = 513, VideoPatch = 514, ImageStart = 515, ImageEnd = 516, VideoStart = 517, VideoEnd = 518,
    };

    public static ULlavaConfig Default => new()
    {
        LlmConfig = new LlamaConfig
        {
            VocabSize = VocabSize,
            HiddenSize = 256,
            IntermediateSize = 512,
            NumHiddenLayers = 4,
            NumAttentionHeads = 8,
            NumKeyValueHeads = 2,
            MaxPositionEmbeddings = 1024,
            RmsNormEps = 1e-6,
            BosTokenId = 1,
            EosTokenId = 2,
            PadTokenId = 512,
            VisionConfig = new ClipVisionConfig
            {
                HiddenSize = 192, IntermediateSize = 768, NumHiddenLayers = 4, NumAttentionHeads = 3,
                ImageSize = 320, PatchSize = 32, ProjectionDim = 192,
            },
            // The last CLIP layer: trained from scratch, nothing is gained by skipping it (u-LLaVA's -2 suits a pretrained CLIP).
            VisionHiddenLayer = -1,
            MmTokenIds = TokenIds,
            ProjectorType = "mlp2x",
        },
        OutDim = 128,
        SegTokenIdx = 519,
        LocTokenIdx = 520,
        TorchDtype = "float32",
        SamConfigOverride = new SamConfig
        {
            ImageSize = 320, PatchSize = 16, EncoderEmbedDim = 128, EncoderDepth = 4, EncoderNumHeads = 4,
            EncoderGlobalAttnIndexes = new[] { 3 }, WindowSize = 10, PromptEmbedDim = 128, MaskInChans = 16,
            DecoderDepth = 2, DecoderMlpDim = 512, DecoderNumHeads = 4, IouHeadDepth = 3, IouHeadHiddenDim = 128,
        },
    };

    public static ULlavaConfig Tiny => new()
    {
        LlmConfig = new LlamaConfig
        {
            VocabSize = VocabSize,
            HiddenSize = 64,
            IntermediateSize = 128,
            NumHiddenLayers = 2,
            NumAttentionHeads = 4,
            NumKeyValueHeads = 2,
            MaxPositionEmbeddings = 1024,
            BosTokenId = 1,
            EosTokenId = 2,
            PadTokenId = 512,
            VisionConfig = new ClipVisionConfig
            {
                HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 2,
                ImageSize = 64, PatchSize = 16, ProjectionDim = 32,
            },
            VisionHiddenLayer = -1,
            MmTokenIds = TokenIds,
            ProjectorType = "mlp2x",
        },
        OutDim = 32,
        SegTokenIdx = 519,
        LocTokenIdx = 520,
        TorchDtype = "float32",
        SamConfigOverride = new SamConfig
        {
            ImageSize = 128, PatchSize = 16, EncoderEmbedDim = 32, EncoderDepth = 1, EncoderNumHeads = 2,
            EncoderGlobalAttnIndexes = new[] { 0 }, WindowSize = 4, PromptEmbedDim = 32, MaskInChans = 16,
            DecoderDepth = 1, DecoderMlpDim = 64, DecoderNumHeads = 2, IouHeadDepth = 2, IouHeadHiddenDim = 32,
        },
    };

    /// <summary>"default" or "tiny".</summary>
    /// <summary>
    /// u-LLaVA-7B's shapes, for timing with random weights (`bench --random-weights ullava-7b`): a Vicuna-7B decoder
    /// (4096 wide, 32 layers, 32 heads, 11008 MLP), CLIP ViT-L/14 at 224 px (256 image tokens, the second-to-last layer),
    /// a two-layer projector and SAM ViT-H at 1024 px. Only the vocabulary is the fixture tokenizer's (523, not 32000):
    /// the LM head is then 4 MB instead of 262 MB, under 0.1 ms a token at HBM speed, and the reference is timed likewise.
    /// </summary>
    public static ULlavaConfig ULlava7B => new()
    {
        LlmConfig = new LlamaConfig
        {
            VocabSize = VocabSize,
            HiddenSize = 4096,
            IntermediateSize = 11008,
            NumHiddenLayers = 32,
            NumAttentionHeads = 32,
            NumKeyValueHeads = 32,
            MaxPositionEmbeddings = 2048,
            RmsNormEps = 1e-6,
            BosTokenId = 1,
            EosTokenId = 2,
            PadTokenId = 512,
            VisionConfig = new ClipVisionConfig
            {
                HiddenSize = 1024, IntermediateSize = 4096, NumHiddenLayers = 24, NumAttentionHeads = 16,
                ImageSize = 224, PatchSize = 14, ProjectionDim = 768,
            },
            VisionHiddenLayer = -2,
            MmTokenIds = TokenIds,
            ProjectorType = "mlp2x",
        },
        OutDim = 256,
        SegTokenIdx = 519,
        LocTokenIdx = 520,
        TorchDtype = "bfloat16",
        SamConfigOverride = SamConfig.VitH,
    };

    public static ULlavaConfig ByName(string name) => name switch
    {
        "default" => Default,
        "tiny" => Tiny,
        "ullava-7b" => ULlava7B,
        _ => throw new ArgumentException($"model size '{name}': expected default, tiny or ullava-7b", nameof(name)),
    };

    /// <summary>The CLIP processor settings for a config: resize and crop straight to the vision tower's input side.</summary>
    public static ClipImageProcessorConfig Processor(ULlavaConfig config)
    {
        int side = config.LlmConfig.VisionConfig.ImageSize;
        return new ClipImageProcessorConfig { Size = new ClipImageProcessorConfig.ShortestEdgeSize { ShortestEdge = side }, CropSize = new JsonCropSize(side) };
    }
}
