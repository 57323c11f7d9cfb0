using BanActors.Hosting;

namespace BanActors.Server.Hosting;

/// <summary>
/// Holds the host's start, after the actor system and before Kestrel listens, until the engine has taken the path of
/// a first ban once (<see cref="BanEngine.WarmUpAsync"/>; no ban is written). Bounded by <see cref="Timeout"/>; a
/// warm-up that fails or times out is logged and the server starts anyway (its first requests then pay, as before).
/// </summary>
/// <remarks>
/// Measured with the bench's <c>crash-cycles</c> scenario (docs/BENCHMARKS.md, "Crash cycles"): without it the first
/// concurrent bans after a restart all waited for the journal's first writes together.
/// </remarks>
internal sealed class EngineWarmUp(IServiceProvider services, ILogger<EngineWarmUp> log) : IHostedService
{
    internal static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Resolved now, not in the constructor: the host builds every hosted service before it starts the first one,
        // and the engine exists only once the actor system's hosted service has started.
        var engine = services.GetRequiredService<BanEngine>();
        var started = TimeProvider.System.GetTimestamp();
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(Timeout);
        try
        {
            await engine.WarmUpAsync(bounded.Token);
            log.LogInformation("Engine warmed up in {Elapsed:0} ms", TimeProvider.System.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception ex) when (ex is BanEngineUnavailableException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            log.LogWarning(ex, "The engine did not warm up within {Timeout}; starting anyway", Timeout);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
