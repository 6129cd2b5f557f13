using TorchSharp;
using Xunit.Sdk;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests;

/// <summary>Compares tensors the way the fixture README states its tolerances: max |a-b| ≤ rel × max |expected|.</summary>
public static class TensorAssert
{
    /// <summary>README tolerance for features, projections, hidden states and SAM embeddings.</summary>
    public const double Features = 1e-4;
    /// <summary>README tolerance for logits and mask logits.</summary>
    public const double Logits = 1e-3;

    public static (double MaxAbs, double MaxRel) Diff(Tensor expected, Tensor actual)
    {
        using var scope = NewDisposeScope();
        var e = expected.to_type(ScalarType.Float64).cpu();
        var a = actual.to_type(ScalarType.Float64).cpu();
        double maxAbs = (e - a).abs().max().item<double>();
        double scale = e.abs().max().item<double>();
        return (maxAbs, scale == 0 ? maxAbs : maxAbs / scale);
    }

    public static void Close(Tensor expected, Tensor actual, double relTolerance, string name = "tensor")
    {
        if (!expected.shape.SequenceEqual(actual.shape))
            throw new XunitException($"{name}: shape [{string.Join(",", actual.shape)}], expected [{string.Join(",", expected.shape)}]");
        var (maxAbs, maxRel) = Diff(expected, actual);
        if (!(maxRel <= relTolerance))
            throw new XunitException($"{name}: max_abs {maxAbs:E3} max_rel {maxRel:E3} exceeds {relTolerance:E1}");
    }
}
