using TorchSharp;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Native;

/// <summary>
/// Scalars that stay reachable for the whole native call. TorchSharp's implicit <c>double</c>/<c>int</c>/… → <see cref="Scalar"/>
/// conversions (<c>t * 1.702</c>, <c>t.gt(0)</c>, and the alpha 1 that <c>a + b</c> passes internally) hand the native op a handle
/// whose managed owner is already unreachable: a finalizer may free it while libtorch still reads it (a crash such as
/// "Exception raised from toDouble", or a silently wrong value). Model code therefore passes only Scalars it holds: constants
/// in static readonly fields (never finalized; <see cref="ScalarExtensionMethods.ToScalar(int)"/> joins no dispose scope), runtime
/// values in a <c>using</c> that outlives the op.
/// </summary>
internal static class ScalarOps
{
    /// <summary>The alpha of a plain addition (what TorchSharp's <c>add(Tensor)</c> passes as an implicit <c>1</c>).</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary>The start (and <see cref="One"/> the step) that <c>arange(stop)</c> passes as implicit ints.</summary>
    public static readonly Scalar Zero = 0.ToScalar();

    /// <summary>a + b, as <c>a + b</c> computes it, with the alpha held.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary>t + s, as <c>t + s</c> computes it (TorchSharp's <c>add(Scalar)</c> also passes an implicit alpha 1).</summary>
    public static Tensor Plus(this Tensor t, Scalar s) => t.add(s, One);

    /// <summary>s − t, as <c>s - t</c> computes it (−t + s), with the alpha held.</summary>
    public static Tensor SubtractedFrom(this Tensor t, Scalar s) => t.negative().add(s, One);
}
