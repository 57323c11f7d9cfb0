using Akka.Event;
using BanActors.Hosting;
using BanActors.Storage;

namespace BanActors.Feed;

/// <summary>How a handler's deliveries are paced.</summary>
internal sealed record FeedSettings(TimeSpan RetryFor, TimeSpan MaxRetryDelay)
{
    public static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>Ledger rows read per batch (each batch saves the offset twice: 2,000 keeps a burst of 10,000 to 10 commits).</summary>
    public int BatchSize { get; init; } = 2000;

    /// <summary>Users whose events are handed to the handler at once (one user's events always one at a time).</summary>
    public int Parallelism { get; init; } = 16;

    /// <summary>Past this many events waiting behind failed ones, no more are read until some go through.</summary>
    public int MaxParked { get; init; } = 50_000;

    /// <summary>How long one delivery may take before it counts as failed.</summary>
    public TimeSpan HandlerTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Poll of the ledger when no signal comes (another node's projection; real time, it is not a domain timer).</summary>
    public TimeSpan Poll { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Delivers the ledger, from the handler's durable offset on, to one <see cref="IBanEventHandler"/>: at least once,
/// in order per user, many users at once. A failed event parks its user (the user's later events queue behind it)
/// and is retried with exponential backoff and jitter on the engine's clock; other users go on. An event that still
/// fails after <see cref="FeedSettings.RetryFor"/> of retries becomes a dead letter. The stored offset is the
/// highest one below which everything was delivered or dead-lettered, so a crash re-sends, never loses.
/// </summary>
internal sealed class FeedConsumer(IBanEventHandler handler, FeedStore store, LedgerSignal signal, TimeProvider clock,
    FeedSettings settings, ILoggingAdapter log)
{
    private sealed class Parked(Queue<LedgerStore.Row> rows, DateTimeOffset firstFailure)
    {
        public Queue<LedgerStore.Row> Rows { get; } = rows;
        public int Attempts { get; set; } = 1;
        public DateTimeOffset FirstFailure { get; set; } = firstFailure;
        public DateTimeOffset NextAttempt { get; set; }
        public string LastError { get; set; } = "";
    }

    private readonly Dictionary<UserKey, Parked> _parked = [];
    private readonly KeyValuePair<string, object?> _tag = new(BanMetrics.Handler, handler.Name);
    private long _read;
    private long _saved;
    private long _attempted;
    private long _redeliverUpTo;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await FollowAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.Warning(ex, "Event handler {0} stopped; resuming from its stored offset in 5 s", handler.Name);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task FollowAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        (_saved, _attempted) = await store.GetOffsetAsync(handler.Name, cancellationToken).ConfigureAwait(false);
        _read = _saved;
        _redeliverUpTo = _attempted;
        _parked.Clear();
        log.Info("Event handler {0} resumes after offset {1}", handler.Name, _saved);
        while (!cancellationToken.IsCancellationRequested)
        {
            var wake = signal.Next;
            var full = false;
            if (_parked.Values.Sum(p => p.Rows.Count) < settings.MaxParked)
            {
                var batch = await store.Ledger.ReadAfterAsync(handler.AppKey, _read, settings.BatchSize, cancellationToken)
                    .ConfigureAwait(false);
                if (batch.Count > 0)
                {
                    var last = batch[^1].Ordering;
                    if (last > _attempted)
                    {
                        // Before delivering: after a crash, what lies between the stored offset and this was maybe sent.
                        _attempted = last;
                        await store.SaveOffsetAsync(handler.Name, _saved, _attempted, cancellationToken).ConfigureAwait(false);
                    }
                    await DeliverAsync(batch, cancellationToken).ConfigureAwait(false);
                    _read = last;
                    full = batch.Count == settings.BatchSize;
                }
            }
            await RetryDueAsync(cancellationToken).ConfigureAwait(false);
            await ReplayAsync(cancellationToken).ConfigureAwait(false);
            await SaveAsync(cancellationToken).ConfigureAwait(false);
            if (full) continue;
            await WaitAsync(wake, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Until the ledger grows (the signal or the poll), or the first parked user is due on the engine's clock.</summary>
    private async Task WaitAsync(Task wake, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var waits = new List<Task> { wake, Task.Delay(settings.Poll, stop.Token) };
        if (_parked.Count > 0)
        {
            var due = _parked.Values.Min(p => p.NextAttempt) - clock.GetUtcNow();
            waits.Add(due <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(due, clock, stop.Token));
        }
        await Task.WhenAny(waits).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task DeliverAsync(List<LedgerStore.Row> batch, CancellationToken cancellationToken)
    {
        var byUser = new Dictionary<UserKey, Queue<LedgerStore.Row>>();
        foreach (var row in batch)
        {
            if (_parked.TryGetValue(row.User, out var parked)) parked.Rows.Enqueue(row);
            else if (byUser.TryGetValue(row.User, out var rows)) rows.Enqueue(row);
            else byUser[row.User] = new Queue<LedgerStore.Row>([row]);
        }
        var failed = new System.Collections.Concurrent.ConcurrentBag<(UserKey, Queue<LedgerStore.Row>, string)>();
        await Parallel.ForEachAsync(byUser, Options(cancellationToken), async (user, ct) =>
        {
            if (await DrainAsync(user.Value, ct).ConfigureAwait(false) is { } error) failed.Add((user.Key, user.Value, error));
        }).ConfigureAwait(false);
        var now = clock.GetUtcNow();
        foreach (var (user, rows, error) in failed)
        {
            var parked = new Parked(rows, now) { LastError = error };
            parked.NextAttempt = now + Backoff(parked.Attempts);
            _parked[user] = parked;
            BanMetrics.EventRetries.Add(1, _tag, BanMetrics.AppTag(user.AppKey));
        }
    }

    /// <summary>Hands the user's events over in order; the error of the first that failed (it stays queued), or null.</summary>
    private async Task<string?> DrainAsync(Queue<LedgerStore.Row> rows, CancellationToken cancellationToken)
    {
        while (rows.TryPeek(out var row))
        {
            if (await TryHandleAsync(row, cancellationToken).ConfigureAwait(false) is { } error) return error;
            rows.Dequeue();
        }
        return null;
    }

    private async Task<string?> TryHandleAsync(LedgerStore.Row row, CancellationToken cancellationToken)
    {
        var banEvent = FeedEvents.From(row);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.HandlerTimeout);
        try
        {
            await handler.HandleAsync(banEvent, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            return ex is OperationCanceledException ? $"no answer within {settings.HandlerTimeout.TotalSeconds:0.#} s" : ex.Message;
        }
        var app = BanMetrics.AppTag(row.User.AppKey);
        BanMetrics.EventsDelivered.Add(1, _tag, app);
        BanMetrics.EventLag.Record(Math.Max(0, (clock.GetUtcNow() - banEvent.Time).TotalMilliseconds), _tag, app);
        if (row.Ordering <= _redeliverUpTo) BanMetrics.EventsRedelivered.Add(1, _tag, app);
        return null;
    }

    private async Task RetryDueAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var due = _parked.Where(p => p.Value.NextAttempt <= now).ToList();
        if (due.Count == 0) return;
        await Parallel.ForEachAsync(due, Options(cancellationToken), async (entry, ct) =>
        {
            var parked = entry.Value;
            while (await DrainAsync(parked.Rows, ct).ConfigureAwait(false) is { } error)
            {
                var at = clock.GetUtcNow();
                parked.LastError = error;
                if (at - parked.FirstFailure < settings.RetryFor)
                {
                    parked.Attempts++;
                    parked.NextAttempt = at + Backoff(parked.Attempts);
                    BanMetrics.EventRetries.Add(1, _tag, BanMetrics.AppTag(entry.Key.AppKey));
                    return;
                }
                // Retried long enough: a dead letter, and the user's next event goes on.
                var row = parked.Rows.Dequeue();
                await store.AddDeadLetterAsync(handler.Name, row.Ordering, parked.Attempts, error, at, ct).ConfigureAwait(false);
                BanMetrics.EventDeadLetters.Add(1, _tag, BanMetrics.AppTag(row.User.AppKey));
                log.Warning("Event {0} of {1} is a dead letter of handler {2} after {3} attempts: {4}",
                    row.Ordering, row.User, handler.Name, parked.Attempts, error);
                parked.Attempts = 1;
                parked.FirstFailure = at;
            }
        }).ConfigureAwait(false);
        foreach (var (user, parked) in due)
            if (parked.Rows.Count == 0) _parked.Remove(user);
    }

    /// <summary>Dead letters that an operator handed back: one more try each, then deleted or dead again.</summary>
    private async Task ReplayAsync(CancellationToken cancellationToken)
    {
        var letters = await store.DeadLettersAsync(handler.Name, replayOnly: true, settings.BatchSize, cancellationToken)
            .ConfigureAwait(false);
        foreach (var (row, attempts, _, _) in letters)
        {
            if (await TryHandleAsync(row, cancellationToken).ConfigureAwait(false) is { } error)
                await store.AddDeadLetterAsync(handler.Name, row.Ordering, attempts + 1, error, clock.GetUtcNow(), cancellationToken)
                    .ConfigureAwait(false);
            else
                await store.RemoveDeadLetterAsync(handler.Name, row.Ordering, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task SaveAsync(CancellationToken cancellationToken)
    {
        var delivered = _parked.Count == 0 ? _read : _parked.Values.Min(p => p.Rows.Peek().Ordering) - 1;
        if (delivered <= _saved) return;
        _saved = delivered;
        await store.SaveOffsetAsync(handler.Name, _saved, Math.Max(_attempted, _saved), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>1 s, doubling, with up to 25% jitter so that retries of many users spread out, never above the cap.</summary>
    private TimeSpan Backoff(int attempts)
    {
        var doubled = FeedSettings.FirstRetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempts - 1, 30));
        var jittered = doubled * (1 + Random.Shared.NextDouble() * 0.25);
        return TimeSpan.FromMilliseconds(Math.Min(jittered, settings.MaxRetryDelay.TotalMilliseconds));
    }

    private ParallelOptions Options(CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = settings.Parallelism, CancellationToken = cancellationToken };
}
