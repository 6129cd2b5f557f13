using ULlava.Perception.Core.Frames;

namespace ULlava.Perception.Web;

/// <summary>An encoded preview frame and the stamp of the frame it shows.</summary>
internal sealed record PreviewImage(byte[] Jpeg, FrameStamp Stamp);

/// <summary>
/// The newest encoded preview frame and a way to await the next one. Writers never wait; each reader asks for a
/// frame newer than the last it sent, so a slow reader skips frames instead of queueing them.
/// </summary>
internal sealed class LatestJpeg
{
    private readonly Lock gate = new();
    private (PreviewImage? Image, long Version) current = (null, 0);
    private TaskCompletionSource next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Version
    {
        get
        {
            lock (gate) return current.Version;
        }
    }

    public void Publish(PreviewImage image)
    {
        TaskCompletionSource wake;
        lock (gate)
        {
            current = (image, current.Version + 1);
            wake = next;
            next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        wake.TrySetResult();
    }

    /// <summary>The newest frame once its version is above <paramref name="seen"/>.</summary>
    public async Task<(PreviewImage Image, long Version)> NewerThanAsync(long seen, CancellationToken cancellation)
    {
        while (true)
        {
            Task wait;
            lock (gate)
            {
                if (current is { Image: { } image, Version: var version } && version > seen) return (image, version);
                wait = next.Task;
            }
            await wait.WaitAsync(cancellation).ConfigureAwait(false);
        }
    }
}
