using ULlava.Perception.Core.Inference;
using ULlava.Perception.Model.Inference;

namespace ULlava.Cli;

/// <summary>--model, --device, --dtype, --libtorch, --threads: shared by every command that loads the model.</summary>
public sealed record ModelArgs(string ModelDir, string Device, string DType, string? LibTorch, int Threads = 0)
{
    public static ModelArgs Read(ArgReader args) => new(
        args.Optional("--model") ?? BundledAssets.DefaultModel,
        args.Optional("--device") ?? "cpu",
        args.Choice("--dtype", "float32", "float32", "bfloat16", "float16"),
        args.Optional("--libtorch"),
        args.Int("--threads", 0, 0, 1024));

    public ULlavaEngine Load() => ULlavaEngine.Load(Options());

    public ULlavaEngineOptions Options() => new()
    {
        ModelDir = ModelDir,
        Device = Device,
        DType = DType,
        LibTorchDir = LibTorch,
        Threads = Threads,
    };
}
