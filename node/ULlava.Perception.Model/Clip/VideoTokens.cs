using static TorchSharp.torch;

namespace ULlava.Perception.Model.Clip;

/// <summary>u-LLaVA's temporal + spatial video tokens (UllavaCoreForCausalLM.encode_video).</summary>
public static class VideoTokens
{
    /// <summary>
    /// Per-frame CLIP features [T, N, C] → [1, T + N, C]: first each frame's mean over its patches
    /// (T temporal tokens), then each patch's mean over the frames (N spatial tokens).
    /// </summary>
    public static Tensor FromFrameFeatures(Tensor frameFeatures)
    {
        if (frameFeatures.dim() != 3)
            throw new ArgumentException($"expected per-frame features [T, N, C], got [{string.Join(", ", frameFeatures.shape)}]", nameof(frameFeatures));
        using var scope = NewDisposeScope();
        var temporal = frameFeatures.mean(new long[] { 1 });   // [T, C]
        var spatial = frameFeatures.mean(new long[] { 0 });    // [N, C]
        return cat(new[] { temporal, spatial }, 0).unsqueeze(0).MoveToOuterDisposeScope();
    }
}
