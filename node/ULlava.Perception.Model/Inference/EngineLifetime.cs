namespace ULlava.Perception.Model.Inference;

/// <summary>
/// Counts the engine's calls in flight so that disposing it never frees weights a call still uses: a node that
/// stops leaves a frame in the model (a prefill or SAM cannot be interrupted), and its owner may dispose the engine
/// right after. The weights are then freed when that last call returns; a call after the dispose is refused.
/// </summary>
internal sealed class EngineLifetime
{
    private readonly Action release;
    private readonly object gate = new();
    private int inFlight;
    private bool disposeRequested, released;

    public EngineLifetime(Action release) => this.release = release;

    /// <summary>Marks a call in flight until the returned scope is disposed. Only public entry points enter: a call in flight that entered again would be refused after a dispose.</summary>
    public Scope Enter()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposeRequested, typeof(ULlavaEngine));
            inFlight++;
        }
        return new Scope(this);
    }

    /// <summary>Frees the weights now, or when the last call in flight returns.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            disposeRequested = true;
            if (inFlight > 0 || released) return;
            released = true;
        }
        release();
    }

    /// <summary>True once the weights are freed (tests).</summary>
    public bool Released
    {
        get
        {
            lock (gate) return released;
        }
    }

    private void Leave()
    {
        lock (gate)
        {
            if (--inFlight > 0 || !disposeRequested || released) return;
            released = true;
        }
        release();
    }

    public readonly struct Scope(EngineLifetime owner) : IDisposable
    {
        public void Dispose() => owner.Leave();
    }
}
