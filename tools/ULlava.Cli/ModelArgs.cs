using ULlava.Perception.Core.Inference;
using ULlava.Perception.Model.Inference;

namespace ULlava.Cli;

/// <summary>--model, --device, --dtype, --libtorch: shared by every command that loads the model.</summary>
public sealed record ModelArgs(string ModelDir, string Device, string DType, string? LibTorch)
{
    public static ModelArgs Read(ArgReader args) => new(
        args.Optional("--model") ?? BundledAssets.DefaultModel,
        args.Optional("--device") ?? "cpu",
        args.Choice("--dtype", "float32", "float32", "bfloat16", "float16"),
        args.Optional("--libtorch"));

    public ULlavaEngine Load(bool fuseProjections = true, bool cacheSystemPrompt = true) => ULlavaEngine.Load(Options(fuseProjections, cacheSystemPrompt));

    public ULlavaEngineOptions Options(bool fuseProjections = true, bool cacheSystemPrompt = true) => new()
    {
        ModelDir = ModelDir,
        Device = Device,
        DType = DType,
        LibTorchDir = LibTorch,
        FuseProjections = fuseProjections,
        CacheSystemPrompt = cacheSystemPrompt,
    };
}
