using ULlava.Perception.Model.Loading;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Heads;

/// <summary>
/// u-LLaVA's <c>seg_projector</c> / <c>det_projector</c>: Linear(hidden, hidden) → ReLU → Linear(hidden, out_dim)
/// (keys <c>0</c> and <c>2</c>; the trailing Dropout(0) is the identity at inference).
/// </summary>
public sealed class TextProjector : nn.Module<Tensor, Tensor>
{
    // Sequential indices, not field names, are the checkpoint keys.
    [ComponentName(Name = "0")] private readonly Linear fc1;
    [ComponentName(Name = "2")] private readonly Linear fc2;

    public TextProjector(long hiddenSize, long outDim, Device? device = null) : base(nameof(TextProjector))
    {
        fc1 = nn.Linear(hiddenSize, hiddenSize, device: device);
        fc2 = nn.Linear(hiddenSize, outDim, device: device);
        RegisterComponents();
    }

    /// <summary>Copies <c>prefix + 0.*</c> and <c>prefix + 2.*</c> (e.g. prefix <c>seg_projector.</c>).</summary>
    public void LoadWeights(IReadOnlyDictionary<string, Tensor> stateDict, string prefix) => StateDictCopy.Into(this, stateDict, prefix);

    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return fc2.forward(nn.functional.relu(fc1.forward(hidden))).MoveToOuterDisposeScope();
    }
}
