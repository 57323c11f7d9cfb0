using BanActors.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BanActors.Messaging;

/// <summary>
/// Purges kept messages older than the retention every <see cref="OfflineMessagingOptions.PurgeInterval"/> on
/// the engine clock (a fake clock in tests fires it when moved), and once at start.
/// </summary>
internal sealed class OfflineMessagePurge(
    IOfflineMessageStore store,
    OfflineMessagingOptions options,
    TimeProvider clock,
    ILogger<OfflineMessagePurge> log,
    KeptMessageCount? waiting = null) : IHostedService, IAsyncDisposable
{
    private readonly KeptMessageCount _waiting = waiting ?? new KeptMessageCount();
    private ITimer? _timer;
    private int _requested;
    private int _running;
    private Task _current = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        BanMetrics.KeptMessageSources.Add(_waiting);
        _timer = clock.CreateTimer(_ => Request(), null, options.PurgeInterval, options.PurgeInterval);
        Request();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_timer is not null) await _timer.DisposeAsync();
        _timer = null;
        BanMetrics.KeptMessageSources.Remove(_waiting);
        await _current.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Purges now, on the caller's task.</summary>
    public async Task<int> PurgeNowAsync(CancellationToken cancellationToken = default)
    {
        var purged = await store.PurgeAsync(clock.GetUtcNow() - options.Retention, cancellationToken);
        if (purged > 0) log.LogInformation("Purged {Count} offline messages older than {Retention}", purged, options.Retention);
        BanMetrics.KeptMessagesPurged.Add(purged);
        // The purge does not say whose messages it removed, and in a cluster other nodes keep and deliver too.
        _waiting.BeginRecount();
        _waiting.EndRecount(await store.CountByAppAsync(cancellationToken));
        return purged;
    }

    // Timer ticks never overlap a running purge; a tick during one makes it run once more afterwards, so the
    // last tick's "now" is always purged up to (a fake clock fires many ticks at once).
    private void Request()
    {
        Interlocked.Exchange(ref _requested, 1);
        if (Interlocked.CompareExchange(ref _running, 1, 0) == 0) _current = Task.Run(RunAsync);
    }

    private async Task RunAsync()
    {
        while (true)
        {
            while (Interlocked.Exchange(ref _requested, 0) == 1)
            {
                try
                {
                    await PurgeNowAsync();
                }
                catch (Exception ex)
                {
                    log.LogWarning(ex, "Purging expired offline messages failed; retrying at the next interval");
                }
            }
            Volatile.Write(ref _running, 0);
            if (Volatile.Read(ref _requested) == 0 || Interlocked.CompareExchange(ref _running, 1, 0) != 0) return;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_timer is not null) await _timer.DisposeAsync();
    }
}
