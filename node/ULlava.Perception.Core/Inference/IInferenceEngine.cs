using ULlava.Perception.Core.Frames;

namespace ULlava.Perception.Core.Inference;

/// <summary>
/// The model as the pipeline sees it. Not thread-safe: one thread (the model stage) owns it and every frame
/// encoding it returns.
/// </summary>
public interface IInferenceEngine : IDisposable
{
    /// <summary>Model name, checkpoint hash, device and dtype, for status and recordings.</summary>
    string Description { get; }

    /// <summary>A hash that identifies the checkpoint (recordings carry it, so a replay can tell it uses the same model).</summary>
    string Identity { get; }

    /// <summary>Runs the vision encoder on a frame once; every instruction on it reuses the result.</summary>
    IEncodedFrame Encode(Frame frame);

    /// <summary>
    /// The same, told whether an instruction on this frame will make a mask, so the engine may start SAM's image encoder
    /// now, beside the vision encoder and the prompt, instead of when the first mask asks for it.
    /// </summary>
    IEncodedFrame Encode(Frame frame, bool withMasks);

    /// <summary>Runs one instruction on an encoded frame. <paramref name="onTextPiece"/> receives text as it is generated.</summary>
    InstructionAnswer Run(IEncodedFrame frame, InstructionRequest request, Action<string>? onTextPiece = null);

    /// <summary>
    /// Several segmentation or grounding instructions on one frame as one batch (one pass for all their texts, their
    /// masks decoded together): the answers of <see cref="Run"/> one by one, in order, up to float rounding. Other kinds
    /// are refused (<see cref="ArgumentException"/>): run them alone.
    /// </summary>
    IReadOnlyList<InstructionAnswer> RunBatch(IEncodedFrame frame, IReadOnlyList<InstructionRequest> requests);

    /// <summary>Classic SAM prompting (points, box) on an encoded frame: one mask, or three with multimask.</summary>
    InstructionAnswer Segment(IEncodedFrame frame, SamPrompt prompt);

    /// <summary>A video question over a window of encoded frames (oldest first), with u-LLaVA's video tokens.</summary>
    InstructionAnswer RunVideo(IReadOnlyList<IEncodedFrame> window, InstructionRequest request, Action<string>? onTextPiece = null);
}
