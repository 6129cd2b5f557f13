using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Sam;

/// <summary>SAM's two-layer MLP (<c>lin1</c>, activation, <c>lin2</c>): GELU in the image encoder, ReLU in the two-way transformer.</summary>
public sealed class MlpBlock : nn.Module<Tensor, Tensor>
{
    private readonly Linear lin1;
    private readonly Linear lin2;
    private readonly nn.Module<Tensor, Tensor> act;

    public MlpBlock(long embeddingDim, long mlpDim, bool gelu, Device? device = null) : base(nameof(MlpBlock))
    {
        lin1 = nn.Linear(embeddingDim, mlpDim, device: device);
        lin2 = nn.Linear(mlpDim, embeddingDim, device: device);
        act = gelu ? nn.GELU() : nn.ReLU();
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return lin2.forward(act.forward(lin1.forward(x))).MoveToOuterDisposeScope();
    }
}
