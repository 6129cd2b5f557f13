using TorchSharp;
using TorchSharp.Modules;
using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Native;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Sam;

/// <summary>
/// SAM's ImageEncoderViT: <c>patch_embed</c>, absolute <c>pos_embed</c>, <c>blocks</c> (windowed except at the
/// global indexes) and the <c>neck</c> (1×1 conv, LayerNorm2d, 3×3 conv, LayerNorm2d). 1×3×S×S in, 1×C×S/16×S/16 out.
/// </summary>
public sealed class SamImageEncoder : nn.Module<Tensor, Tensor>
{
    private readonly PatchEmbed patch_embed;
    private readonly Parameter pos_embed;
    private readonly ModuleList<ImageEncoderBlock> blocks;
    private readonly Sequential neck;

    public SamConfig Config { get; }

    public SamImageEncoder(SamConfig config, Device? device = null) : base(nameof(SamImageEncoder))
    {
        Config = config;
        long dim = config.EncoderEmbedDim, grid = config.EmbeddingSide;
        patch_embed = new PatchEmbed(config.PatchSize, 3, dim, device);
        pos_embed = new Parameter(zeros(1, grid, grid, dim, device: device));
        blocks = new ModuleList<ImageEncoderBlock>();
        for (int i = 0; i < config.EncoderDepth; i++)
        {
            long window = config.EncoderGlobalAttnIndexes.Contains(i) ? 0 : config.WindowSize;
            blocks.Add(new ImageEncoderBlock(dim, config.EncoderNumHeads, config.MlpRatio, window, grid, device));
        }
        long outChans = config.PromptEmbedDim;
        neck = nn.Sequential(
            nn.Conv2d(dim, outChans, kernel_size: 1, bias: false, device: device),
            new LayerNorm2d(outChans, device: device),
            nn.Conv2d(outChans, outChans, kernel_size: 3, padding: 1, bias: false, device: device),
            new LayerNorm2d(outChans, device: device));
        RegisterComponents();
    }

    /// <summary>Chooses how every block computes its attention (see <see cref="SamAttentionKernel"/>).</summary>
    public void SetAttentionKernel(SamAttentionKernel kernel)
    {
        foreach (var block in blocks) block.Attention.Kernel = kernel;
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = patch_embed.forward(x).Plus(pos_embed);
        foreach (var block in blocks) y = block.forward(y);
        return neck.forward(y.permute(0, 3, 1, 2)).MoveToOuterDisposeScope();
    }
}
