using System.Runtime.CompilerServices;
using Akka.Actor;
using BanActors.Storage;

namespace BanActors.Feed;

/// <summary>The facade's event feed: reads the ledger by offset and tails it, woken by the ledger's signal.</summary>
internal sealed class BanEventFeed(FeedStore store, ActorSystem system, TimeSpan poll) : IBanEventFeed
{
    private const int BatchSize = 500;

    public async IAsyncEnumerable<BanEvent> ReadAsync(string? appKey, string? after = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (appKey is not null && !BanRules.IsValidAppKey(appKey)) throw new BanRequestRejectedException("appKey is not valid");
        long offset;
        if (after is null) offset = -1;
        else if (!FeedEvents.TryParseId(after, out offset)) throw new BanRequestRejectedException("the event id to resume after is not valid");
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        if (offset < 0) offset = await Unavailable(store.Ledger.HighestOffsetAsync(cancellationToken)).ConfigureAwait(false);

        var signal = LedgerSignal.For(system);
        while (true)
        {
            var wake = signal.Next;
            var rows = await Unavailable(store.Ledger.ReadAfterAsync(appKey, offset, BatchSize, cancellationToken)).ConfigureAwait(false);
            foreach (var row in rows)
            {
                offset = row.Ordering;
                yield return FeedEvents.From(row);
            }
            if (rows.Count == BatchSize) continue;
            await Task.WhenAny(wake, Task.Delay(poll, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    public async Task<string> GetPositionAsync(CancellationToken cancellationToken = default)
    {
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        var offset = await Unavailable(store.Ledger.HighestOffsetAsync(cancellationToken)).ConfigureAwait(false);
        return offset.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<IReadOnlyList<BanDeadLetter>> GetDeadLettersAsync(string handler, int size = 100,
        CancellationToken cancellationToken = default)
    {
        if (size is < 1 or > BanRules.MaxLogPageSize)
            throw new BanRequestRejectedException($"size must be between 1 and {BanRules.MaxLogPageSize}");
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        var letters = await Unavailable(store.DeadLettersAsync(handler, replayOnly: false, size, cancellationToken)).ConfigureAwait(false);
        return letters.Select(l => new BanDeadLetter(handler, FeedEvents.From(l.Row), l.Attempts, l.Error, l.DeadSince)).ToList();
    }

    public async Task<int> ReplayDeadLettersAsync(string handler, IReadOnlyCollection<string>? ids = null,
        CancellationToken cancellationToken = default)
    {
        List<long>? orderings = null;
        if (ids is not null)
        {
            orderings = new List<long>(ids.Count);
            foreach (var id in ids)
            {
                if (!FeedEvents.TryParseId(id, out var ordering)) throw new BanRequestRejectedException($"event id '{id}' is not valid");
                orderings.Add(ordering);
            }
        }
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        var marked = await Unavailable(store.MarkReplayAsync(handler, orderings, cancellationToken)).ConfigureAwait(false);
        if (marked > 0) LedgerSignal.For(system).Pulse();
        return marked;
    }

    /// <summary>A storage failure as the facade reports it.</summary>
    private static async Task<T> Unavailable<T>(Task<T> read)
    {
        try
        {
            return await read.ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException ex)
        {
            throw new BanEngineUnavailableException($"the ledger could not be read: {ex.Message}", ex);
        }
    }
}
