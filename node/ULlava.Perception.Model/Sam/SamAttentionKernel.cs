namespace ULlava.Perception.Model.Sam;

/// <summary>How SAM's image encoder computes its relative-position attention.</summary>
public enum SamAttentionKernel
{
    /// <summary>Meta's formulation: q·kᵀ, the decomposed relative bias added, softmax, ·v (the reference and the baseline).</summary>
    Eager,

    /// <summary>The relative bias carried in extra query/key channels through one scaled-dot-product kernel (flash on CUDA).</summary>
    AugmentedScaledDotProduct,
}
