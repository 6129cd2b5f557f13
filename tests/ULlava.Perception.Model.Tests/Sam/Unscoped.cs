using TorchSharp;

namespace ULlava.Perception.Model.Tests.Sam;

/// <summary>Builds long-lived shared state so that a caller's dispose scope (a lazy first touched inside a test's scope) cannot free it.</summary>
public static class Unscoped
{
    public static T Build<T>(Func<T> factory)
    {
        using var scope = torch.NewDisposeScope();
        var result = factory();
        scope.Detach(scope.DisposablesView.ToArray());
        return result;
    }
}
