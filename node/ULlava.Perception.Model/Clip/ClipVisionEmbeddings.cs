using TorchSharp;
using TorchSharp.Modules;
using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Native;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Clip;

/// <summary>HF <c>CLIPVisionEmbeddings</c>: [CLS] + 14×14 patches (conv without bias) + learned positions.</summary>
internal sealed class ClipVisionEmbeddings : nn.Module<Tensor, Tensor>
{
    private readonly Parameter class_embedding;
    private readonly Conv2d patch_embedding;
    private readonly Embedding position_embedding;

    public ClipVisionEmbeddings(ClipVisionConfig config) : base(nameof(ClipVisionEmbeddings))
    {
        class_embedding = new Parameter(randn(config.HiddenSize));
        patch_embedding = nn.Conv2d(config.NumChannels, config.HiddenSize, config.PatchSize, stride: config.PatchSize, bias: false);
        position_embedding = nn.Embedding(config.NumPatches + 1, config.HiddenSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor pixelValues)
    {
        using var scope = NewDisposeScope();
        long batch = pixelValues.shape[0];
        // HF casts pixels to the weights' dtype, so a bf16 tower takes float32 pixels.
        var patches = patch_embedding.call(pixelValues.to(patch_embedding.weight!.dtype))
            .flatten(2).transpose(1, 2);                                  // [B, N, C]
        var cls = class_embedding.view(1, 1, -1).expand(batch, 1, -1);    // [B, 1, C]
        var x = cat(new[] { cls, patches }, 1).Plus(position_embedding.weight!.unsqueeze(0));
        return x.MoveToOuterDisposeScope();
    }
}
