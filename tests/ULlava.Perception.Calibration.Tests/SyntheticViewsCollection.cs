namespace ULlava.Perception.Calibration.Tests;

/// <summary>Shares one set of rendered views (half a minute on two cores) between the test classes that need it.</summary>
[CollectionDefinition(Name)]
public sealed class SyntheticViewsCollection : ICollectionFixture<SyntheticViewsFixture>
{
    public const string Name = "synthetic views";
}
