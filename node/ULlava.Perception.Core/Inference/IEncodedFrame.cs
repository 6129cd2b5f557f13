using ULlava.Perception.Core.Frames;

namespace ULlava.Perception.Core.Inference;

/// <summary>
/// A frame after the vision encoders: its cached visual features (and, once a mask was needed, its SAM image
/// embedding). Owned by the caller; disposing frees the cached tensors.
/// </summary>
public interface IEncodedFrame : IDisposable
{
    FrameStamp Stamp { get; }
    int Width { get; }
    int Height { get; }

    /// <summary>Milliseconds the encoders took for this frame.</summary>
    double EncodeMs { get; }

    /// <summary>
    /// Frees what only instructions on this frame need (prompt-prefix KV, SAM embedding), keeping what video
    /// questions over past frames need; called when the frame moves into the recent-frames history.
    /// </summary>
    void Trim();
}
