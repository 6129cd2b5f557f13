using TorchSharp;
using ULlava.Perception.Model.Clip;
using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Heads;
using ULlava.Perception.Model.Llama;
using ULlava.Perception.Model.Projector;
using ULlava.Perception.Model.Sam;
using static TorchSharp.torch;

namespace ULlava.Perception.Model;

/// <summary>
/// u-LLaVA as its checkpoints lay it out: <c>llm</c> (LLaMA with <c>vision_encoder</c> and
/// <c>vision_projector</c> beside <c>model</c> and <c>lm_head</c>), <c>visual_model</c> (SAM),
/// <c>seg_projector</c>, <c>det_projector</c>, <c>det_decoder</c>. Field names are the checkpoint keys.
/// </summary>
public sealed class ULlavaForCausalLM : nn.Module
{
    private readonly ULlavaConfig config;
    private readonly LlamaForCausalLM llm;
    private readonly SamModel visual_model;
    private readonly TextProjector seg_projector;
    private readonly TextProjector det_projector;
    private readonly DetDecoder det_decoder;

    // Registered under llm (the checkpoint's llm.vision_encoder / llm.vision_projector), so held in a tuple that
    // RegisterComponents does not walk, or they would be registered a second time at the root.
    private readonly (ClipVisionTower Tower, VisionProjector Projector) vision;

    public ULlavaForCausalLM(ULlavaConfig config, Device? device = null) : base("ULlavaForCausalLM")
    {
        this.config = config;
        var llmConfig = config.LlmConfig;
        llm = new LlamaForCausalLM(llmConfig, device);
        vision = (new ClipVisionTower(llmConfig), new VisionProjector(llmConfig));
        if (device is not null)
        {
            vision.Tower.to(device);
            vision.Projector.to(device);
        }
        llm.register_module("vision_encoder", vision.Tower);
        llm.register_module("vision_projector", vision.Projector);
        visual_model = new SamModel(config.Sam, device);
        seg_projector = new TextProjector(llmConfig.HiddenSize, config.OutDim, device);
        det_projector = new TextProjector(llmConfig.HiddenSize, config.OutDim, device);
        det_decoder = new DetDecoder(config.OutDim, device);
        RegisterComponents();
    }

    public ULlavaConfig Config => config;
    public LlamaForCausalLM Llm => llm;
    public ClipVisionTower VisionTower => vision.Tower;
    public VisionProjector Projector => vision.Projector;
    public SamModel Sam => visual_model;
    public TextProjector SegProjector => seg_projector;
    public TextProjector DetProjector => det_projector;
    public DetDecoder DetDecoder => det_decoder;

    public Device Device => llm.Device;
    public ScalarType DType => llm.DType;
}
