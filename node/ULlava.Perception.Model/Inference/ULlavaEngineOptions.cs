namespace ULlava.Perception.Model.Inference;

/// <summary>How to load a u-LLaVA checkpoint folder.</summary>
public sealed record ULlavaEngineOptions
{
    public required string ModelDir { get; init; }

    /// <summary>cpu, cuda or cuda:N.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>float32, bfloat16 or float16.</summary>
    public string DType { get; init; } = "float32";

    /// <summary>A libtorch folder to load first (see TorchRuntime); null: ULLAVA_LIBTORCH or the bundled one.</summary>
    public string? LibTorchDir { get; init; }

    /// <summary>
    /// libtorch's intra-op threads for the process. 0: on the CPU with <see cref="OverlapSam"/>, half the cores (at least
    /// one: SAM's worker and the model thread each get a share; on 2 cores the default model's standing segmentation runs
    /// at 14–18 fps against 10–12 with a pool per core, BENCHMARKS.md); otherwise libtorch's default, one per core.
    /// </summary>
    public int Threads { get; init; }

    /// <summary>Longest prompt plus answer a frame's KV cache holds.</summary>
    public int MaxSequenceLength { get; init; } = 1024;

    /// <summary>Stack LLaMA's q/k/v and gate/up weights into single GEMMs once loaded (fewer kernel launches a token); off to time the difference.</summary>
    public bool FuseProjections { get; init; } = true;

    /// <summary>
    /// On CUDA, LLaMA's RMSNorms as one fused kernel each (layer_norm over [x, -x]); off to time the difference. The CPU
    /// always keeps the elementwise formula, which is faster there.
    /// </summary>
    public bool FuseNorms { get; init; } = true;

    /// <summary>
    /// Without autograd, LLaMA adds each block's output to the residual stream inside the block's last GEMM (addmm_ in
    /// place: two kernels fewer a layer); off to time the difference.
    /// </summary>
    public bool ResidualsInGemms { get; init; } = true;

    /// <summary>
    /// SAM's image-encoder attention: the augmented SDPA kernel by default, faster on both devices (BENCHMARKS.md: SAM-H
    /// on an H100 33.6/40.2 ms against 44.4–44.9 eager in one sitting; on the 2-core CPU the default model's blocks
    /// 8.1 → 6.2 ms windowed and 14.7 → 6.9 ms global); <see cref="Sam.SamAttentionKernel.Eager"/> to time the difference.
    /// </summary>
    public Sam.SamAttentionKernel SamAttention { get; init; } = Sam.SamAttentionKernel.AugmentedScaledDotProduct;

    /// <summary>
    /// On the CPU, when a frame will need a mask (<see cref="ULlavaEngine.Encode(Core.Frames.Frame, bool)"/>), run SAM's image encoder
    /// on a second thread while CLIP and the prompt run on the caller's, when the two threads' libtorch pools fit the cores
    /// (<see cref="ULlavaEngine.OverlapsSam"/>; on 2 cores: <see cref="Threads"/> 1); off to time the difference. A GPU runs
    /// the two in turn (one stream; two launching threads measured no faster).
    /// </summary>
    public bool OverlapSam { get; init; } = true;

    /// <summary>
    /// A frame's first instruction prefills the image and its own text in one pass (keeping the image's KV for the
    /// frame's next instructions) instead of the image first and then the text; off to time the difference.
    /// </summary>
    public bool OnePassFirstInstruction { get; init; } = true;

    /// <summary>Prefill the prompt's text before the image once per engine and copy its KV into every frame's prefix; off to time the difference.</summary>
    public bool CacheSystemPrompt { get; init; } = true;
}
