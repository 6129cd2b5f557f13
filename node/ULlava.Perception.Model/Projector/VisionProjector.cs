using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using ULlava.Perception.Model.Config;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Projector;

/// <summary>
/// u-LLaVA's <c>llm.vision_projector</c> (UllavaCoreForCausalLM.build_vision_projector): <c>mlp</c> is a bare
/// Linear (keys <c>weight</c>, <c>bias</c>); <c>mlp2x</c> is Sequential(Linear, GELU, Linear) (keys <c>0.*</c>, <c>2.*</c>).
/// </summary>
public sealed class VisionProjector : nn.Module<Tensor, Tensor>
{
    // mlp: the Linear's own parameters sit at this level, as in the checkpoint.
    private readonly Parameter? weight;
    private readonly Parameter? bias;

    // mlp2x: Sequential indices as component names.
    [ComponentName(Name = "0")] private readonly Linear? linear0;
    [ComponentName(Name = "1")] private readonly GELU? gelu1;
    [ComponentName(Name = "2")] private readonly Linear? linear2;

    public VisionProjector(string projectorType, long visionHidden, long llmHidden, string name = "vision_projector") : base(name)
    {
        ProjectorType = projectorType;
        switch (projectorType)
        {
            case "mlp":
                // Take nn.Linear's initialisation so an untrained projector starts as PyTorch's would.
                using (var init = nn.Linear(visionHidden, llmHidden))
                {
                    weight = new Parameter(init.weight!.detach().clone());
                    bias = new Parameter(init.bias!.detach().clone());
                }
                break;
            case "mlp2x":
                linear0 = nn.Linear(visionHidden, llmHidden);
                gelu1 = nn.GELU();
                linear2 = nn.Linear(llmHidden, llmHidden);
                break;
            default:
                throw new NotSupportedException($"projector_type '{projectorType}' is not supported (mlp, mlp2x)");
        }
        RegisterComponents();
    }

    /// <summary>From the <c>llm_config</c> block: projector_type, CLIP width → LLaMA width.</summary>
    public VisionProjector(LlamaConfig llmConfig) : this(llmConfig.ProjectorType, llmConfig.VisionConfig.HiddenSize, llmConfig.HiddenSize) { }

    public string ProjectorType { get; }

    /// <summary>[..., visionHidden] → [..., llmHidden].</summary>
    public override Tensor forward(Tensor features)
    {
        using var scope = NewDisposeScope();
        var y = weight is not null
            ? nn.functional.linear(features, weight, bias)
            : linear2!.call(gelu1!.call(linear0!.call(features)));
        return y.MoveToOuterDisposeScope();
    }
}
