namespace ULlava.Perception.Model.Tests;

public class GoldenFixtureTests
{
    [Fact]
    public void GoldenTensorsLoadWithTheirListedShapes()
    {
        foreach (var file in Fixtures.GoldenJson.GetProperty("files").EnumerateObject())
        foreach (var entry in file.Value.EnumerateObject())
        {
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.Equal(shape, Golden.Get(entry.Name).shape);
        }
    }
}
