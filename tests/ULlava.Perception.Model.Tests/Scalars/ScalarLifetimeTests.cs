using TorchSharp;
using ULlava.Perception.Model.Llama;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests.Scalars;

/// <summary>
/// TorchSharp's implicit number → Scalar conversions (<c>t * 1.702</c>, <c>t + eps</c>, the alpha 1 inside <c>a + b</c>) pass a
/// handle whose managed Scalar is already unreachable, so a finalizer may free it while libtorch reads it. With collections
/// and finalizers running continuously on another thread, an op built that way fails within a fraction of a second
/// ("Exception raised from toDouble" / "Unknown scalar type") or computes with a garbage value.
/// </summary>
public class ScalarLifetimeTests
{
    private static void UnderFinalizerPressure(TimeSpan duration, Action op)
    {
        using var stop = new CancellationTokenSource();
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }) { IsBackground = true };
        collector.Start();
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed < duration) op();
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }
    }

    [Fact]
    public void RmsNormHoldsItsScalarsWhileFinalizersRun()
    {
        // x.pow(2), variance + eps and weight · x: an unheld Scalar in any of them fails here within about a second.
        using var norm = new LlamaRmsNorm(8, 1e-6);
        using var x = randn(2, 8, generator: new Generator(7));
        float[] expected;
        using (var first = norm.forward(x)) expected = first.data<float>().ToArray();
        UnderFinalizerPressure(TimeSpan.FromSeconds(8), () =>
        {
            using var y = norm.forward(x);
            Assert.Equal(expected, y.data<float>().ToArray());
        });
    }

    [Fact]
    public void HeldScalarsSurviveWhereImplicitOnesWouldNot()
    {
        // The two patterns the model uses: a static (never finalized) Scalar and one held by a using around the op.
        // ToScalar joins no dispose scope: a Scalar made inside one outlives it.
        Scalar factor;
        using (NewDisposeScope()) factor = 1.702.ToScalar();
        using var x = randn(4, 4, generator: new Generator(3));
        float[] expected;
        using (var first = x.mul(factor)) expected = first.data<float>().ToArray();
        UnderFinalizerPressure(TimeSpan.FromSeconds(3), () =>
        {
            using var a = x * factor;
            using var local = 1.702.ToScalar();
            using var b = x * local;
            Assert.Equal(expected, a.data<float>().ToArray());
            Assert.Equal(expected, b.data<float>().ToArray());
        });
        GC.KeepAlive(factor);
    }
}
