namespace ULlava.Perception.Recording.Tests;

/// <summary>What <see cref="SessionSample.Record"/> recorded, and the MCAP messages that makes.</summary>
public sealed record SessionExpectation(int Frames, int Commands, int Results, int Statuses, int Calibrations)
{
    public int Published => Results + Statuses + Calibrations;

    /// <summary>MCAP messages: frame = header + image; each result adds annotations, each calibration camera info.</summary>
    public int McapMessages => Frames * 2 + Commands + Results * 2 + Statuses + Calibrations * 2;
}
