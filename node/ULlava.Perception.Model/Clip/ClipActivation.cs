using static TorchSharp.torch;

namespace ULlava.Perception.Model.Clip;

/// <summary>The hidden_act names a CLIP config may carry, mapped to the functions Hugging Face uses.</summary>
internal static class ClipActivation
{
    public static Func<Tensor, Tensor> Resolve(string name) => name switch
    {
        // OpenAI CLIP's approximation: x·σ(1.702x).
        "quick_gelu" => x => x * nn.functional.sigmoid(x * 1.702),
        "gelu" => x => nn.functional.gelu(x),
        "gelu_new" or "gelu_pytorch_tanh" => x => nn.functional.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh),
        _ => throw new NotSupportedException($"CLIP hidden_act '{name}' is not supported (quick_gelu, gelu, gelu_new, gelu_pytorch_tanh)"),
    };
}
