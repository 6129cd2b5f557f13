using ULlava.Perception.Core.Frames;
using ULlava.Perception.Core.Inference;
using ULlava.Perception.Model.Llama;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Inference;

/// <summary>
/// One frame's cache: the RGB pixels, CLIP features (raw for video tokens, projected for images), the SAM image
/// embedding once a mask needed it, and the KV cache of the shared prompt prefix (system prompt + image tokens)
/// once an instruction needed it. Owned by the model thread; disposing frees every tensor.
/// </summary>
public sealed class EncodedFrame : IEncodedFrame
{
    internal EncodedFrame(FrameStamp stamp, int width, int height, Tensor rgb, Tensor clipFeatures, Tensor imageFeatures, double encodeMs)
    {
        Stamp = stamp;
        Width = width;
        Height = height;
        Rgb = rgb;
        ClipFeatures = clipFeatures;
        ImageFeatures = imageFeatures;
        EncodeMs = encodeMs;
    }

    public FrameStamp Stamp { get; }
    public int Width { get; }
    public int Height { get; }
    public double EncodeMs { get; }

    /// <summary>uint8 [H,W,3] on the CPU.</summary>
    internal Tensor Rgb { get; }

    /// <summary>CLIP hidden_states[vision_hidden_layer] without CLS, [1,N,C].</summary>
    internal Tensor ClipFeatures { get; }

    /// <summary>After the projector, [1,N,H]: what replaces the image patch tokens.</summary>
    internal Tensor ImageFeatures { get; }

    internal Tensor? SamEmbedding { get; set; }

    /// <summary>Whether SAM's image encoder has run for this frame (only when a mask was needed).</summary>
    public bool HasSamEmbedding => SamEmbedding is not null;
    internal int SamResizedHeight { get; set; }
    internal int SamResizedWidth { get; set; }
    internal KvCache? PrefixCache { get; set; }
    internal int[]? PrefixIds { get; set; }

    public void Trim()
    {
        SamEmbedding?.Dispose();
        PrefixCache?.Dispose();
        SamEmbedding = null;
        PrefixCache = null;
        PrefixIds = null;
    }

    public void Dispose()
    {
        Rgb.Dispose();
        ClipFeatures.Dispose();
        ImageFeatures.Dispose();
        SamEmbedding?.Dispose();
        PrefixCache?.Dispose();
        SamEmbedding = null;
        PrefixCache = null;
    }
}
