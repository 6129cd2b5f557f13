using ULlava.Perception.Core.Pipeline;

namespace ULlava.Perception.Core.Tests;

public class FrameSamplerTests
{
    private const long FrameNs = 33_333_333; // 30 fps

    [Fact]
    public void EveryNthFrameTakesOneInN()
    {
        var sampler = new FrameSampler(everyNFrames: 3);
        var taken = Enumerable.Range(0, 9).Where(i => sampler.Take(i * FrameNs)).ToArray();
        Assert.Equal(new[] { 0, 3, 6 }, taken);
    }

    [Fact]
    public void MaxFpsHalvesA30FpsStreamAt15()
    {
        var sampler = new FrameSampler(maxFps: 15);
        int taken = Enumerable.Range(0, 30).Count(i => sampler.Take(i * FrameNs + (i % 2 == 0 ? 0 : 400_000)));
        Assert.Equal(15, taken);
    }

    [Fact]
    public void NoLimitTakesEverything()
    {
        var sampler = new FrameSampler();
        Assert.All(Enumerable.Range(0, 10), i => Assert.True(sampler.Take(i)));
    }

    [Theory]
    [InlineData(-1, 1)]
    [InlineData(double.NaN, 1)]
    [InlineData(0, 0)]
    public void AbsurdSettingsAreRejectedWithTheirName(double fps, int everyN)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new FrameSampler(fps, everyN));
        Assert.Contains(fps < 0 || double.IsNaN(fps) ? "max fps" : "every-N", e.Message);
    }
}
