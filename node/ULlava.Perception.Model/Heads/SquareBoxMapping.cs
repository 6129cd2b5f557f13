using TorchSharp;
using ULlava.Perception.Model.Native;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Heads;

/// <summary>
/// Maps det_decoder boxes, normalised on the square the frame was centred in (LLaVA's expand2square: the shorter
/// side padded equally, offset (side - len) / 2 rounded down), back to frame pixels.
/// </summary>
public static class SquareBoxMapping
{
    /// <summary>Offsets (x, y) of the frame inside its square, and the square's side.</summary>
    public static (int PadX, int PadY, int Side) SquareOffsets(int frameH, int frameW)
    {
        if (frameH <= 0 || frameW <= 0) throw new ArgumentException($"frame size {frameH}×{frameW} is empty");
        int side = Math.Max(frameH, frameW);
        return ((side - frameW) / 2, (side - frameH) / 2, side);
    }

    /// <summary>…×4 normalised xyxy → …×4 xyxy in frame pixels (<c>x · side − pad</c>; not clipped to the frame).</summary>
    public static Tensor ToFramePixels(Tensor normalisedXyxy, int frameH, int frameW)
    {
        var (padX, padY, side) = SquareOffsets(frameH, frameW);
        using var scope = NewDisposeScope();
        var pad = tensor(new float[] { padX, padY, padX, padY }, device: normalisedXyxy.device);
        using var sideS = side.ToScalar();
        return (normalisedXyxy * sideS - pad).MoveToOuterDisposeScope();
    }
}
