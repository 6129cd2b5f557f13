namespace ULlava.Perception.Model.Tests.Loading;

/// <summary>Tests that change or count process-wide torch state (the default device, the thread count, live tensors) run alone, never beside others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideStateCollection
{
    public const string Name = "process-wide torch state";
}
