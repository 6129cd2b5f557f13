using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ULlava.Perception.Node.Pipeline;

namespace ULlava.Perception.Node.Hosting;

/// <summary>
/// The node as a hosted service. The host stops it (SIGTERM/SIGINT, or systemd's stop) by cancelling: the node stops
/// taking frames, answers what is queued, flushes the recording and returns. When the node ends on its own (every
/// file source played), it stops the host, so the process exits with <see cref="ExitCode"/>.
/// </summary>
public sealed class PerceptionNodeService : BackgroundService
{
    private readonly PerceptionNode node;
    private readonly IHostApplicationLifetime lifetime;
    private readonly ILogger logger;

    public PerceptionNodeService(PerceptionNode node, IHostApplicationLifetime lifetime, ILogger<PerceptionNodeService> logger)
    {
        this.node = node;
        this.lifetime = lifetime;
        this.logger = logger;
    }

    /// <summary>0 when the node stopped cleanly, 1 when a source failed or the node crashed.</summary>
    public int ExitCode { get; private set; } = 1;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            ExitCode = await node.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // One clear line (a port in use, a device gone); the stack only at debug level.
            logger.LogCritical("the node stopped: {Error}", e.Message);
            logger.LogDebug(e, "the node's failure");
            ExitCode = 1;
        }
        finally
        {
            logger.LogInformation("processed {Frames} frames", node.FramesProcessed);
            lifetime.StopApplication();
        }
    }
}
