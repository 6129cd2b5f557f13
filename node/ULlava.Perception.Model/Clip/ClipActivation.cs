using TorchSharp;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Clip;

/// <summary>The hidden_act names a CLIP config may carry, mapped to the functions Hugging Face uses.</summary>
internal static class ClipActivation
{
    // Held: an implicitly converted Scalar may be finalized while the op reads it (see ScalarOps).
    private static readonly Scalar QuickGeluFactor = 1.702.ToScalar();

    public static Func<Tensor, Tensor> Resolve(string name) => name switch
    {
        // OpenAI CLIP's approximation: x·σ(1.702x).
        "quick_gelu" => x => x * nn.functional.sigmoid(x * QuickGeluFactor),
        "gelu" => x => nn.functional.gelu(x),
        "gelu_new" or "gelu_pytorch_tanh" => x => nn.functional.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh),
        _ => throw new NotSupportedException($"CLIP hidden_act '{name}' is not supported (quick_gelu, gelu, gelu_new, gelu_pytorch_tanh)"),
    };
}
