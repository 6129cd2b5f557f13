using ULlava.Perception.Core.Tracking;

namespace ULlava.Perception.Core.Tests;

public class ObjectTrackerTests
{
    private static TrackedObject Box(float x, float y, float size = 20) => new(x, y, x + size, y + size);

    [Fact]
    public void AMovingObjectKeepsItsIdAcrossFrames()
    {
        var tracker = new ObjectTracker();
        var ids = Enumerable.Range(0, 10).Select(i => tracker.Update(new[] { Box(10 + 3 * i, 50) })[0]).ToList();
        Assert.All(ids, id => Assert.Equal(ids[0], id));
    }

    [Fact]
    public void TwoObjectsKeepTheirOwnIdsWhateverTheOrderOfDetections()
    {
        var tracker = new ObjectTracker();
        var first = tracker.Update(new[] { Box(10, 10), Box(100, 100) });
        var swapped = tracker.Update(new[] { Box(102, 101), Box(12, 11) });
        Assert.Equal(first[1], swapped[0]);
        Assert.Equal(first[0], swapped[1]);
        Assert.NotEqual(first[0], first[1]);
    }

    [Fact]
    public void AShortGapIsBridgedAndALongOneStartsANewTrack()
    {
        var tracker = new ObjectTracker(maxMissedFrames: 2);
        ulong id = tracker.Update(new[] { Box(10, 10) })[0];
        tracker.Update(Array.Empty<TrackedObject>());
        tracker.Update(Array.Empty<TrackedObject>());
        Assert.Equal(id, tracker.Update(new[] { Box(11, 10) })[0]);
        for (int i = 0; i < 3; i++) tracker.Update(Array.Empty<TrackedObject>());
        Assert.Equal(0, tracker.LiveTracks);
        Assert.NotEqual(id, tracker.Update(new[] { Box(11, 10) })[0]);
    }

    [Fact]
    public void ANewObjectFarAwayGetsANewId()
    {
        var tracker = new ObjectTracker();
        ulong a = tracker.Update(new[] { Box(10, 10) })[0];
        var both = tracker.Update(new[] { Box(11, 10), Box(200, 200) });
        Assert.Equal(a, both[0]);
        Assert.NotEqual(a, both[1]);
    }

    [Fact]
    public void MasksAreComparedOnPixels()
    {
        // Same boxes, disjoint pixels (two diagonals): box IoU is 1, mask IoU 0, so they are different objects.
        var diagonal = new byte[16];
        var anti = new byte[16];
        for (int i = 0; i < 4; i++)
        {
            diagonal[i * 4 + i] = 1;
            anti[i * 4 + (3 - i)] = 1;
        }
        var a = new TrackedObject(0, 0, 4, 4, diagonal, 4, 4);
        var b = new TrackedObject(0, 0, 4, 4, anti, 4, 4);
        Assert.Equal(0, ObjectTracker.Iou(a, b));
        Assert.Equal(1, ObjectTracker.Iou(a, a));
        Assert.Equal(1, ObjectTracker.Iou(a with { Mask = null }, b with { Mask = null }));
    }
}
