using TorchSharp;
using ULlava.Perception.Core.Inference;
using ULlava.Perception.Model.Inference;
using ULlava.Perception.Model.Tests.Loading;

namespace ULlava.Perception.Model.Tests.Inference;

/// <summary>
/// The engine frees what each frame made. Alone in its collection: libtorch's live-tensor count is process-wide, and
/// tests running beside it would change it (CI once saw it 3 lower).
/// </summary>
[Collection(ProcessWideStateCollection.Name)]
public class EngineLeakTests
{
    private static ULlavaEngine Engine => TinyEngine.Instance;

    [Fact]
    public void TwoHundredFramesLeaveNoTensorsOrMemoryBehind()
    {
        var request = new InstructionRequest(TinyEngine.SegQuestion, InstructionKind.Segment);
        var scene = TinyEngine.Scene();
        void RunFrames(int n)
        {
            for (int i = 0; i < n; i++)
            {
                using var frame = Engine.Encode(scene);
                Engine.Run(frame, request);
                Engine.Run(frame, new InstructionRequest("What is it?", InstructionKind.Ask, MaxNewTokens: 2));
            }
        }
        static void Collect()
        {
            // Tensors left to the finalizer count until it has run.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }
        RunFrames(20); // warm-up: allocator pools and lazy statics settle
        Collect();
        long tensorsBefore = torch.Tensor.TotalCount;
        long memoryBefore = Environment.WorkingSet;
        RunFrames(200);
        Collect();
        long tensorsAfter = torch.Tensor.TotalCount;
        long memoryAfter = Environment.WorkingSet;
        Assert.Equal(tensorsBefore, tensorsAfter);
        Assert.True(memoryAfter - memoryBefore < 64L << 20, $"working set grew by {(memoryAfter - memoryBefore) >> 20} MiB over 200 frames");
    }
}
