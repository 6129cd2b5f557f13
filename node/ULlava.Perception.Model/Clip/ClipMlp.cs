using TorchSharp.Modules;
using ULlava.Perception.Model.Config;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Clip;

/// <summary>HF <c>CLIPMLP</c>: fc1, activation from hidden_act, fc2.</summary>
internal sealed class ClipMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Func<Tensor, Tensor> _act;

    public ClipMlp(ClipVisionConfig config) : base(nameof(ClipMlp))
    {
        fc1 = nn.Linear(config.HiddenSize, config.IntermediateSize);
        fc2 = nn.Linear(config.IntermediateSize, config.HiddenSize);
        _act = ClipActivation.Resolve(config.HiddenAct);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc2.call(_act(fc1.call(x))).MoveToOuterDisposeScope();
    }
}
