using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Sam;

/// <summary>Meta's mask-decoder MLP: <c>layers.N</c> Linear with ReLU between (hypernetworks, IoU head).</summary>
public sealed class SamMlp : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<Linear> layers;
    private readonly bool sigmoidOutput;

    public SamMlp(long inputDim, long hiddenDim, long outputDim, int numLayers, bool sigmoidOutput = false, Device? device = null)
        : base(nameof(SamMlp))
    {
        if (numLayers < 1) throw new ArgumentOutOfRangeException(nameof(numLayers), numLayers, "an MLP needs at least one layer");
        layers = new ModuleList<Linear>();
        for (int i = 0; i < numLayers; i++)
        {
            long n = i == 0 ? inputDim : hiddenDim;
            long k = i == numLayers - 1 ? outputDim : hiddenDim;
            layers.Add(nn.Linear(n, k, device: device));
        }
        this.sigmoidOutput = sigmoidOutput;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        for (int i = 0; i < layers.Count; i++)
        {
            x = layers[i].forward(x);
            if (i < layers.Count - 1) x = nn.functional.relu(x);
        }
        if (sigmoidOutput) x = x.sigmoid();
        return x.MoveToOuterDisposeScope();
    }
}
