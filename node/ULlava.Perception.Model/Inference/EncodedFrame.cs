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

    /// <summary>SAM's embedding being made on a worker thread (<see cref="ULlavaEngine.Encode(Frame, bool)"/>); null: none.</summary>
    internal Task<SamImage>? SamInFlight { get; init; }
    private bool samTaken;

    /// <summary>The worker's embedding (waits for it; its error, if any, is thrown here), once; null when none was started.</summary>
    internal SamImage? TakeSamInFlight()
    {
        if (SamInFlight is null || samTaken) return null;
        samTaken = true;
        return SamInFlight.GetAwaiter().GetResult();
    }

    /// <summary>Waits for a worker's embedding nobody will use and frees it.</summary>
    internal static void Abandon(Task<SamImage>? inFlight)
    {
        if (inFlight is null) return;
        try
        {
            inFlight.GetAwaiter().GetResult().Embedding.Dispose();
        }
        catch (Exception)
        {
            // Nobody asked for this mask: the instruction that would have needed it reports its own error.
        }
    }

    private void AbandonSamInFlight()
    {
        if (samTaken) return;
        samTaken = true;
        Abandon(SamInFlight);
    }

    /// <summary>Whether SAM's image encoder has run for this frame (only when a mask was needed).</summary>
    public bool HasSamEmbedding => SamEmbedding is not null;
    internal int SamResizedHeight { get; set; }
    internal int SamResizedWidth { get; set; }
    internal KvCache? PrefixCache { get; set; }
    internal int[]? PrefixIds { get; set; }

    public void Trim()
    {
        AbandonSamInFlight();
        SamEmbedding?.Dispose();
        PrefixCache?.Dispose();
        SamEmbedding = null;
        PrefixCache = null;
        PrefixIds = null;
    }

    public void Dispose()
    {
        AbandonSamInFlight(); // before Rgb: the worker reads it
        Rgb.Dispose();
        ClipFeatures.Dispose();
        ImageFeatures.Dispose();
        SamEmbedding?.Dispose();
        PrefixCache?.Dispose();
        SamEmbedding = null;
        PrefixCache = null;
    }
}

/// <summary>SAM's image embedding [1,C,S,S] and the size the frame was resized to before padding.</summary>
internal sealed record SamImage(Tensor Embedding, int ResizedHeight, int ResizedWidth);
