using TorchSharp;
using ULlava.Perception.Core.Inference;
using ULlava.Perception.Model.Inference;
using ULlava.Perception.Model.Tests.Loading;

namespace ULlava.Perception.Model.Tests.Inference;

/// <summary>
/// SAM's image encoder on a worker thread beside CLIP and the prompt. Alone in its collection: it sets libtorch's
/// process-wide thread count and counts live tensors, which tests running beside it would change.
/// </summary>
[Collection(ProcessWideStateCollection.Name)]
public class OverlappedSamTests
{
    [Fact]
    public void SamOverlappedWithClipGivesTheSerialMasksAndFreesAbandonedWork()
    {
        int previousThreads = torch.get_num_threads();
        try
        {
            // One intra-op thread: the two threads' pools fit 2 cores, so SAM runs beside CLIP and the prompt.
            using var overlapped = ULlavaEngine.Load(new ULlavaEngineOptions { ModelDir = Fixtures.TinyCheckpoint, Threads = 1 });
            Assert.Equal(Environment.ProcessorCount >= 2, overlapped.OverlapsSam);
            var request = new InstructionRequest(TinyEngine.SegQuestion, InstructionKind.Segment);
            var scene = TinyEngine.Scene();
            InstructionAnswer serialAnswer;
            using (var serial = (EncodedFrame)overlapped.Encode(scene))
            {
                Assert.False(serial.HasSamEmbedding);
                serialAnswer = overlapped.Run(serial, request);
            }

            GC.Collect();
            GC.WaitForPendingFinalizers(); // tensors left to the finalizer count until it has run
            long tensorsBefore = torch.Tensor.TotalCount;
            using (var frame = (EncodedFrame)overlapped.Encode(scene, withMasks: true))
            {
                var answer = overlapped.Run(frame, request);
                Assert.Equal(serialAnswer.Masks[0].Pixels, answer.Masks[0].Pixels);
                Assert.Equal(serialAnswer.Masks[0].Score, answer.Masks[0].Score);
                Assert.True(frame.HasSamEmbedding);
                // A second instruction reuses the embedding the worker made.
                Assert.Equal(answer.Masks[0].Pixels, overlapped.Run(frame, request).Masks[0].Pixels);
            }
            // Frames dropped or trimmed while their worker still runs: it finishes, and its embedding is freed.
            overlapped.Encode(scene, withMasks: true).Dispose();
            using (var trimmed = (EncodedFrame)overlapped.Encode(scene, withMasks: true))
            {
                trimmed.Trim();
                Assert.False(trimmed.HasSamEmbedding);
                Assert.Equal(serialAnswer.Masks[0].Pixels, overlapped.Run(trimmed, request).Masks[0].Pixels); // made again, serially
            }
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Assert.Equal(tensorsBefore, torch.Tensor.TotalCount);
        }
        finally
        {
            torch.set_num_threads(previousThreads);
        }
    }
}
