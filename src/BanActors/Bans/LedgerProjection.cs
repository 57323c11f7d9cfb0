using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using BanActors.Feed;
using BanActors.Storage;

namespace BanActors.Bans;

/// <summary>
/// Feeds the app-wide ledger (<see cref="LedgerStore"/>) from the journal's "ban" tag: a read side with a durable
/// offset (the table's highest journal offset), so the request path writes nothing more, and a crash between a
/// ban's commit and its ledger row only delays the row. One per engine (a cluster singleton in a cluster).
/// <para>
/// On SQLite it reads the journal's table itself (<see cref="JournalEventRows"/>), polled at the read journal's
/// <c>refresh-interval</c> and read again at once while a read comes back full; elsewhere it follows the read journal's
/// <c>EventsByTag</c>, which handles orderings that commit out of order.
/// </para>
/// </summary>
internal sealed class LedgerProjection : ReceiveActor
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan PurgeInterval = TimeSpan.FromHours(1);

    private sealed record Resume(long Offset);
    private sealed class Restart { public static readonly Restart Instance = new(); }
    private sealed class Purge { public static readonly Purge Instance = new(); }
    private sealed record Failed(Exception Cause);

    private readonly LedgerStore _store;
    private readonly TimeProvider _clock;
    private readonly string _queryPluginId;
    private readonly TimeSpan? _retention;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private const int BatchSize = 2000;

    private readonly JournalEventRows.Reader? _rows;
    private readonly TimeSpan _poll;
    private UniqueKillSwitch? _stream;
    private CancellationTokenSource? _following;
    private ITimer? _retry;
    private ITimer? _purge;

    public LedgerProjection(LedgerStore store, TimeProvider clock, string queryPluginId, TimeSpan? retention,
        string? journalPluginId = null)
    {
        _store = store;
        _clock = clock;
        _queryPluginId = queryPluginId;
        _retention = retention;
        _rows = journalPluginId is null ? null : JournalEventRows.For(Context.System, journalPluginId, BanTags.Ban);
        _poll = Context.System.Settings.Config.GetTimeSpan(queryPluginId + ".refresh-interval", TimeSpan.FromSeconds(1));
        Receive<Restart>(_ => Start());
        Receive<Resume>(r => Follow(r.Offset));
        Receive<Failed>(f =>
        {
            _log.Warning(f.Cause, "The ban ledger projection stopped; resuming from its stored offset in {Delay}", RetryDelay);
            StopFollowing();
            var self = Self;
            _retry?.Dispose();
            _retry = ClockTimers.After(_clock, RetryDelay, () => self.Tell(Restart.Instance));
        });
        Receive<Done>(_ => Self.Tell(new Failed(new InvalidOperationException("the journal's tag stream completed"))));
        Receive<Purge>(_ => PurgeOld());
    }

    public static Props Props(LedgerStore store, TimeProvider clock, string queryPluginId, TimeSpan? retention,
        string? journalPluginId = null) =>
        Akka.Actor.Props.Create(() => new LedgerProjection(store, clock, queryPluginId, retention, journalPluginId));

    protected override void PreStart()
    {
        Start();
        if (_retention is not null) SchedulePurge(TimeSpan.Zero);
    }

    protected override void PostStop()
    {
        StopFollowing();
        _retry?.Dispose();
        _purge?.Dispose();
    }

    private void Start()
    {
        async Task<long> Prepare()
        {
            await _store.InitializeAsync(CancellationToken.None).ConfigureAwait(false);
            return await _store.HighestOffsetAsync(CancellationToken.None).ConfigureAwait(false);
        }
        Prepare().PipeTo(Self, success: offset => new Resume(offset), failure: ex => new Failed(ex));
    }

    private void StopFollowing()
    {
        _stream?.Shutdown();
        _stream = null;
        // Cancelled, not disposed: the loop may still be between two awaits holding its token.
        _following?.Cancel();
        _following = null;
    }

    private void Follow(long offset)
    {
        if (_rows is { } rows)
        {
            var following = _following = new CancellationTokenSource();
            var self = Self;
            var pulse = LedgerSignal.For(Context.System);
            // On the thread pool: Microsoft.Data.Sqlite's async calls run synchronously.
            Task.Run(() => FollowRowsAsync(rows, pulse, offset, following.Token)).ContinueWith(t =>
            {
                if (t.IsFaulted) self.Tell(new Failed(t.Exception!.GetBaseException()));
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return;
        }
        IEventsByTagQuery journal;
        try
        {
            journal = PersistenceQuery.Get(Context.System).ReadJournalFor<IEventsByTagQuery>(_queryPluginId);
        }
        catch (Exception ex)
        {
            Self.Tell(new Failed(ex));
            return;
        }
        var store = _store;
        var clock = _clock;
        var signal = LedgerSignal.For(Context.System);
        // Batch, not GroupedWithin: a row is written as soon as the previous write is done (no timer to wait for),
        // and what arrives during a write goes into the next one, so batches grow with the load.
        var (killSwitch, done) = journal.EventsByTag(BanTags.Ban, Offset.Sequence(offset))
            .Select(envelope => Row(envelope, clock))
            .Where(row => row is not null)
            .Batch(2000, row => new List<LedgerStore.Row> { row! }, (rows, row) =>
            {
                rows.Add(row!);
                return rows;
            })
            .SelectAsync(1, async rows =>
            {
                // Off the stream's thread: Microsoft.Data.Sqlite's async methods run synchronously, so an inline write
                // would block the stage, complete before Batch sees the next row, and make every batch one row (one
                // commit per event: 10,000 expiries took 17 s to reach the ledger instead of 0.1 s after their unbans).
                await Task.Run(() => store.AddAsync(rows, CancellationToken.None)).ConfigureAwait(false);
                signal.Pulse();
                return NotUsed.Instance;
            })
            .ViaMaterialized(KillSwitches.Single<NotUsed>(), Keep.Right)
            .ToMaterialized(Sink.Ignore<NotUsed>(), Keep.Both)
            .Run(Context.Materializer());
        _stream = killSwitch;
        done.PipeTo(Self, success: () => Done.Instance, failure: ex => new Failed(ex));
    }

    private async Task FollowRowsAsync(JournalEventRows.Reader rows, LedgerSignal signal, long offset, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var events = await rows(offset, BatchSize, cancellationToken).ConfigureAwait(false);
                if (events.Count > 0)
                {
                    var batch = new List<LedgerStore.Row>(events.Count);
                    foreach (var (ordering, _, @event) in events)
                        if (Row(ordering, @event, _clock) is { } row) batch.Add(row);
                    await _store.AddAsync(batch, cancellationToken).ConfigureAwait(false);
                    offset = events[^1].Ordering;
                    signal.Pulse();
                }
                if (events.Count < BatchSize) await Task.Delay(_poll, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static LedgerStore.Row? Row(EventEnvelope envelope, TimeProvider clock) =>
        Row(envelope.Offset is Sequence seq ? seq.Value : 0L, envelope.Event, clock);

    private static LedgerStore.Row? Row(long ordering, object @event, TimeProvider clock)
    {
        return @event switch
        {
            UserBanned e => new LedgerStore.Row(ordering, e.User, BanHistory.Entry(e)!, clock.GetUtcNow()),
            UserUnbanned e => new LedgerStore.Row(ordering, e.User, BanHistory.Entry(e)!, clock.GetUtcNow()),
            _ => null,
        };
    }

    private void PurgeOld()
    {
        if (_retention is not { } retention) return;
        var before = _clock.GetUtcNow() - retention;
        var log = _log;
        _store.PurgeAsync(before, CancellationToken.None).ContinueWith(t =>
        {
            if (t.IsFaulted) log.Warning(t.Exception, "Purging the ban ledger failed; retrying in {Interval}", PurgeInterval);
            else if (t.Result > 0) log.Info("Purged {Count} ledger entries older than {Retention}", t.Result, retention);
        }, TaskScheduler.Default);
        SchedulePurge(PurgeInterval);
    }

    private void SchedulePurge(TimeSpan delay)
    {
        _purge?.Dispose();
        var self = Self;
        _purge = ClockTimers.After(_clock, delay, () => self.Tell(Purge.Instance));
    }
}
