using ULlava.Perception.Model.Loading;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Heads;

/// <summary>
/// u-LLaVA's <c>det_decoder</c>: Linear(d, d) → ReLU → Linear(d, d/2) → ReLU → Linear(d/2, 4) (keys <c>0</c>, <c>2</c>, <c>4</c>),
/// mapping a [LOC] embedding to a normalised xyxy box on the white-padded square image. There is no output
/// activation: the reference's det_boxes_raw are the last Linear's values (a sigmoid misses them by ~0.4).
/// </summary>
public sealed class DetDecoder : nn.Module<Tensor, Tensor>
{
    // Sequential indices, not field names, are the checkpoint keys.
    [ComponentName(Name = "0")] private readonly Linear fc1;
    [ComponentName(Name = "2")] private readonly Linear fc2;
    [ComponentName(Name = "4")] private readonly Linear fc3;

    public DetDecoder(long inDim, Device? device = null) : base(nameof(DetDecoder))
    {
        fc1 = nn.Linear(inDim, inDim, device: device);
        fc2 = nn.Linear(inDim, inDim / 2, device: device);
        fc3 = nn.Linear(inDim / 2, 4, device: device);
        RegisterComponents();
    }

    /// <summary>Copies <c>prefix + {0,2,4}.*</c> (prefix <c>det_decoder.</c> in a u-LLaVA checkpoint).</summary>
    public void LoadWeights(IReadOnlyDictionary<string, Tensor> stateDict, string prefix) => StateDictCopy.Into(this, stateDict, prefix);

    /// <summary>…×d [LOC] embeddings → …×4 boxes (x0, y0, x1, y1) normalised to the padded square (unclamped).</summary>
    public override Tensor forward(Tensor locEmbeddings)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.relu(fc1.forward(locEmbeddings));
        x = nn.functional.relu(fc2.forward(x));
        return fc3.forward(x).MoveToOuterDisposeScope();
    }
}
