using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Sam;

/// <summary>Non-overlapping patch projection (<c>proj</c>), returning channels-last B×H×W×C like Meta's PatchEmbed.</summary>
public sealed class PatchEmbed : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d proj;

    public PatchEmbed(long patchSize, long inChans, long embedDim, Device? device = null) : base(nameof(PatchEmbed))
    {
        proj = nn.Conv2d(inChans, embedDim, kernel_size: patchSize, stride: patchSize, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return proj.forward(x).permute(0, 2, 3, 1).MoveToOuterDisposeScope();
    }
}
