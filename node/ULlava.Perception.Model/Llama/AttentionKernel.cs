namespace ULlava.Perception.Model.Llama;

/// <summary>How self-attention is computed; both give the same maths (see <see cref="LlamaAttention.DefaultKernel"/> for the choice).</summary>
public enum AttentionKernel
{
    /// <summary>matmul → mask → softmax in float32 → matmul, as Hugging Face's eager attention.</summary>
    MatmulSoftmax,
    /// <summary>libtorch's fused <c>scaled_dot_product_attention</c>.</summary>
    ScaledDotProduct,
}
