using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Akka.Persistence.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using BanActors.Hosting;
using BanActors.Storage;

namespace BanActors.Bans;

/// <summary>
/// The read side of the bans and the durable half of their expiry. Rebuilt from the journal's tagged events at
/// start, then kept current by <see cref="BanStarted"/>/<see cref="BanEnded"/> and, where notices may be lost (a
/// cluster: DistributedPubSub is at most once), by tailing the journal, so no durable change is missed. It serves the block
/// list and holds the wake-up of every running ban whose actor is not alive: a live actor holds its own timer and
/// is watched, and when it stops the index takes the wake-up over (a durable reminder next to the actor's in-memory
/// timer, as Orleans separates them). So there is one timer per running ban at any moment, and bans lift on time
/// after a restart with nobody asking and no actor kept alive per banned user.
/// <para>
/// So that a start does not read the whole ban history, the index saves its running bans now and then as one
/// <see cref="IndexSnapshot"/> in the snapshot store (<see cref="IndexSnapshotSettings"/>), with the tag offset they
/// cover, and starts from the newest one: it reads only the events after that offset (the SQL read journal's offset
/// is exclusive: rows with a greater ordering), applied by sequence number like any other, so reading one twice is
/// harmless. A snapshot that cannot be loaded or read means a full rebuild, logged, never a failed start.
/// </para>
/// <para>
/// Tombstones are not saved: the snapshot holds running bans only, so its size follows the bans running, not every
/// user ever banned. The tombstone's watermark is not lost where it matters. Replaying from the offset brings every
/// later event of a user, in order, so the replay ends on the user's last state. A notice can only be older than
/// what the snapshot knows of its user if it was published before the snapshot was written: a user actor publishes a
/// change's notice before it handles its next command, and one node's notices die with its process. For such a notice
/// to reach an index loaded from that snapshot, it would have to stay in flight across a whole restart or failover;
/// the worst it could do is list a ban that ended, until the index wakes it and the actor records nothing.
/// </para>
/// </summary>
internal sealed class ActiveBanIndex : ReceiveActor, IWithStash
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The last known state of one user, kept after the ban ends as a tombstone: its sequence number is the
    /// watermark that keeps a late or replayed notice from bringing an ended ban back.
    /// </summary>
    /// <param name="Holder">The live user actor that holds the wake-up itself; null when the index holds it.</param>
    /// <param name="Since">When the running ban started; with <paramref name="Reason"/> and <paramref name="Operator"/>,
    /// the ledger's fields that the block list shows.</param>
    private sealed record Entry(DateTimeOffset? Until, long SequenceNr, IActorRef? Holder = null, DateTimeOffset? Since = null,
        string? Reason = null, string? Operator = null);
    private sealed class LoadState
    {
        public Dictionary<UserKey, Entry> Entries { get; init; } = new();
        public long LastOffset { get; set; }
        public long Events { get; set; }
    }
    private sealed record Loaded(Dictionary<UserKey, Entry> Entries, long LastOffset, long Events, IndexSnapshot? From);
    private sealed record SnapshotLoaded(IndexSnapshot? Snapshot, long SequenceNr, string? Problem);
    private sealed class CaughtUp { public static readonly CaughtUp Instance = new(); }
    private sealed record CatchUpFailed(Exception Cause);
    private sealed record HighWater(long Covered);
    private sealed class HighWaterUnknown { public static readonly HighWaterUnknown Instance = new(); }
    private sealed class SaveDue { public static readonly SaveDue Instance = new(); }
    /// <summary>Sent by the coordinated shutdown: save what changed since the last snapshot, then answer <see cref="Done"/>.</summary>
    private sealed class SaveBeforeStop { public static readonly SaveBeforeStop Instance = new(); }
    private sealed record JournalChange(UserKey User, UserBanned? Ban, long SequenceNr, long Offset);
    private sealed class FollowFailed { public static readonly FollowFailed Instance = new(); }
    private sealed class Follow { public static readonly Follow Instance = new(); }
    private sealed class Due { public static readonly Due Instance = new(); }
    private sealed record ExpiryFailed(UserKey User, DateTimeOffset Until);
    private sealed class Reload { public static readonly Reload Instance = new(); }

    private readonly IActorRef _bans;
    private readonly TimeProvider _clock;
    private readonly string _queryPluginId;
    private readonly int _maxExpiriesInFlight;
    private readonly TimeSpan _expiryTimeout;
    private readonly bool _followJournal;
    private readonly IndexSnapshotSettings? _snapshots;
    private long _changesSinceSave;
    private long _changesInSave;
    private DateTimeOffset? _lastSaveAt;
    private long _lastSavedSequenceNr;
    private bool _saving;
    private ITimer? _saveTimer;
    private Func<long, IReadOnlyDictionary<string, long>, CancellationToken, Task<long>>? _highWater;
    private bool _highWaterChecked;
    private readonly List<IActorRef> _waitingForSave = new();
    private long _loadStarted;
    private IndexLoadReport _loadReport = new(null, 0, 0, 0);
    private readonly CancellationTokenSource _stopped = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private Dictionary<UserKey, Entry> _entries = new();
    // The running bans of _entries per app, for the metrics exporter (read from its thread).
    private readonly RunningBans _running = new();
    // Wake-ups the index holds, by due time; items made stale by a re-ban, an unban or an actor taking over are
    // skipped when they come up rather than removed eagerly.
    private readonly PriorityQueue<UserKey, DateTimeOffset> _due = new();
    private readonly Dictionary<IActorRef, UserKey> _holders = new();
    private int _inFlight;
    private ITimer? _dueTimer;
    private DateTimeOffset? _dueTimerAt;
    private ITimer? _retryTimer;
    private long _journalOffset;
    private UniqueKillSwitch? _follower;
    private IMaterializer? _materializer;
    private readonly JournalEventRows.Reader? _rows;
    /// <summary>Events per read when the index loads straight from the journal's table.</summary>
    private const int LoadBatch = 10_000;

    /// <param name="followJournal">Also tail the journal after the rebuild, for changes whose notice may be lost.</param>
    /// <param name="snapshots">Where and when to save and load the index's snapshot; null: never (a rebuild at every start).</param>
    public ActiveBanIndex(IActorRef bans, TimeProvider clock, string queryPluginId, int maxExpiriesInFlight, TimeSpan expiryTimeout,
        bool followJournal, IndexSnapshotSettings? snapshots, string? journalPluginId = null)
    {
        _rows = journalPluginId is null ? null : JournalEventRows.For(Context.System, journalPluginId, BanTags.Ban);
        _followJournal = followJournal;
        _snapshots = snapshots;
        _bans = bans;
        _clock = clock;
        _queryPluginId = queryPluginId;
        _maxExpiriesInFlight = maxExpiriesInFlight;
        _expiryTimeout = expiryTimeout;
        Loading();
    }

    public IStash Stash { get; set; } = null!;

    private IMaterializer Materializer => _materializer ??= Context.Materializer();

    /// <param name="journalPluginId">
    /// The journal the index loads from straight out of its table where that applies (SQLite,
    /// <see cref="JournalEventRows"/>); null, or another store, loads through the read journal.
    /// </param>
    public static Props Props(IActorRef bans, TimeProvider clock, string queryPluginId,
        int maxExpiriesInFlight = 64, TimeSpan? expiryTimeout = null, bool followJournal = true,
        IndexSnapshotSettings? snapshots = null, string? journalPluginId = null) =>
        Akka.Actor.Props.Create(() => new ActiveBanIndex(bans, clock, queryPluginId, maxExpiriesInFlight,
            expiryTimeout ?? TimeSpan.FromSeconds(30), followJournal, snapshots, journalPluginId));

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(BanStarted));
        Context.System.EventStream.Subscribe(Self, typeof(BanEnded));
        Context.System.EventStream.Subscribe(Self, typeof(ExpiryTaken));
        BanMetrics.RunningBanSources.Add(_running);
        if (_snapshots is { Enabled: true } snapshots) SaveAtStop(snapshots);
        StartLoad();
    }

    // Before the cluster shuts down (a singleton hands over in a later phase), while the journal still runs.
    private void SaveAtStop(IndexSnapshotSettings snapshots)
    {
        // A task cannot be removed again: one of an index that has stopped meanwhile answers at once.
        var self = Self;
        var stopped = _stopped.Token;
        CoordinatedShutdown.Get(Context.System).AddTask(CoordinatedShutdown.PhaseBeforeClusterShutdown, "ban-index-snapshot", () =>
            stopped.IsCancellationRequested
                ? Task.FromResult(Done.Instance)
                : self.Ask<Done>(SaveBeforeStop.Instance, snapshots.StopTimeout, stopped)
                    .ContinueWith(_ => Done.Instance, TaskContinuationOptions.ExecuteSynchronously));
    }

    protected override void PostStop()
    {
        _dueTimer?.Dispose();
        _retryTimer?.Dispose();
        _saveTimer?.Dispose();
        _stopped.Cancel();
        _follower?.Shutdown();
        BanMetrics.RunningBanSources.Remove(_running);
        Context.System.EventStream.Unsubscribe(Self);
    }

    private void StartLoad()
    {
        _loadStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        if (_snapshots is not { Load: true } snapshots || SnapshotStore(snapshots) is not { } store)
        {
            ReadJournalFrom(null);
            return;
        }
        store.Ask<ISnapshotResponse>(new LoadSnapshot(snapshots.PersistenceId, SnapshotSelectionCriteria.Latest, long.MaxValue),
                snapshots.LoadTimeout)
            .PipeTo(Self, success: response => response switch
            {
                LoadSnapshotResult { Snapshot: null } => new SnapshotLoaded(null, 0, null),
                LoadSnapshotResult { Snapshot: { Snapshot: IndexSnapshot index } selected } =>
                    new SnapshotLoaded(index, selected.Metadata.SequenceNr, null),
                LoadSnapshotResult { Snapshot: { } other } =>
                    new SnapshotLoaded(null, 0, $"it holds a {other.Snapshot?.GetType().Name ?? "null"}"),
                LoadSnapshotFailed failed => new SnapshotLoaded(null, 0, failed.Cause.Message),
                _ => new SnapshotLoaded(null, 0, $"the store answered {response.GetType().Name}"),
            }, failure: e => new SnapshotLoaded(null, 0, e.Message));
    }

    private IActorRef? SnapshotStore(IndexSnapshotSettings snapshots)
    {
        try
        {
            return Persistence.Instance.Apply(Context.System).SnapshotStoreFor(snapshots.PluginId);
        }
        catch (Exception e)
        {
            _log.Warning(e, "The snapshot store {PluginId} is not available; the ban index rebuilds from the journal", snapshots.PluginId);
            return null;
        }
    }

    // From the snapshot's offset (exclusive) when there is one, else from the start of the ban tag.
    private void ReadJournalFrom(IndexSnapshot? snapshot)
    {
        var seeded = new LoadState
        {
            Entries = new Dictionary<UserKey, Entry>(snapshot?.Bans.Count ?? 0),
            LastOffset = snapshot?.Offset ?? 0,
        };
        if (snapshot is not null)
            foreach (var ban in snapshot.Bans)
                seeded.Entries[ban.User] = new Entry(ban.Until, ban.SequenceNr, null, ban.Since, ban.Reason, ban.Operator);
        Task<LoadState> loaded;
        if (_rows is { } rows)
        {
            // Until a read comes back short: what is written meanwhile also arrives as notices, stashed until the load
            // is done, and a change applied twice is applied once (sequence numbers).
            var stopping = _stopped.Token;
            loaded = Task.Run(async () =>
            {
                while (true)
                {
                    var events = await rows(seeded.LastOffset, LoadBatch, stopping).ConfigureAwait(false);
                    foreach (var (ordering, sequenceNr, @event) in events) Load(seeded, @event, sequenceNr, ordering);
                    if (events.Count < LoadBatch) return seeded;
                }
            }, stopping);
        }
        else if (ReadJournal<ICurrentEventsByTagQuery>() is { } journal)
        {
            loaded = journal.CurrentEventsByTag(BanTags.Ban, snapshot is null ? Offset.NoOffset() : Offset.Sequence(snapshot.Offset))
                .RunAggregate(seeded, (state, envelope) =>
                    Load(state, envelope.Event, envelope.SequenceNr, envelope.Offset is Sequence seq ? seq.Value : 0), Materializer);
        }
        else
        {
            Self.Tell(new Status.Failure(new InvalidOperationException("the read journal could not start")));
            return;
        }
        loaded.PipeTo(Self, success: state => new Loaded(state.Entries, state.LastOffset, state.Events, snapshot));
    }

    /// <summary>One journal event into the index being loaded.</summary>
    private static LoadState Load(LoadState state, object @event, long sequenceNr, long offset)
    {
        switch (@event)
        {
            case UserBanned e: Apply(state.Entries, e.User, e, sequenceNr); break;
            case UserUnbanned e: Apply(state.Entries, e.User, null, sequenceNr); break;
        }
        state.Events++;
        if (offset > state.LastOffset) state.LastOffset = offset;
        return state;
    }

    // The live tag query polls the journal (query.journal.sql.refresh-interval) from the last offset seen.
    private void StartFollowing()
    {
        if (ReadJournal<IEventsByTagQuery>() is not { } journal)
        {
            Self.Tell(FollowFailed.Instance);
            return;
        }
        var self = Self;
        var (killSwitch, done) = journal.EventsByTag(BanTags.Ban, Offset.Sequence(_journalOffset))
            .Select(envelope =>
            {
                var offset = envelope.Offset is Sequence seq ? seq.Value : 0L;
                return envelope.Event switch
                {
                    UserBanned e => new JournalChange(e.User, e, envelope.SequenceNr, offset),
                    UserUnbanned e => new JournalChange(e.User, null, envelope.SequenceNr, offset),
                    _ => null,
                };
            })
            .Where(change => change is not null)
            .ViaMaterialized(KillSwitches.Single<JournalChange?>(), Keep.Right)
            .ToMaterialized(Sink.ForEach<JournalChange?>(change => self.Tell(change!)), Keep.Both)
            .Run(Materializer);
        _follower = killSwitch;
        done.PipeTo(self, success: _ => Done.Instance, failure: _ => FollowFailed.Instance);
    }

    // The SQL read journal's constructor blocks on an ask to the journal (5 s); under a startup burst it can time
    // out. Thrown from PreStart, that would stop the index for good, and with it every timed unban, so it is retried.
    private TJournal? ReadJournal<TJournal>() where TJournal : class, IReadJournal
    {
        try
        {
            return PersistenceQuery.Get(Context.System).ReadJournalFor<TJournal>(_queryPluginId);
        }
        catch (Exception e)
        {
            _log.Error(e, "The read journal {PluginId} could not start", _queryPluginId);
            return null;
        }
    }

    private void RetryLater(object message)
    {
        _retryTimer?.Dispose();
        var self = Self;
        _retryTimer = ClockTimers.After(_clock, RetryDelay, () => self.Tell(message));
    }

    private void Loading()
    {
        Receive<Loaded>(loaded =>
        {
            // Notices that arrived during the load were stashed and are applied next; the rebuilt entries have no
            // holder, so the index holds every running ban's wake-up until an actor takes it.
            _entries = loaded.Entries;
            _journalOffset = loaded.LastOffset;
            var running = 0;
            var byApp = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var (user, entry) in _entries)
            {
                if (entry.Until is not { } until) continue;
                _due.Enqueue(user, until);
                running++;
                byApp[user.AppKey] = byApp.GetValueOrDefault(user.AppKey) + 1;
            }
            _running.Reset(byApp);
            // A long replay is worth a snapshot as soon as the thresholds allow: the next start skips it.
            _changesSinceSave = loaded.Events;
            _loadReport = new IndexLoadReport(loaded.From?.Offset, loaded.From?.Bans.Count ?? 0, loaded.Events, 0);
            var took = System.Diagnostics.Stopwatch.GetElapsedTime(_loadStarted);
            if (loaded.From is { } from)
                _log.Info("Ban index loaded in {Elapsed} ms: {Running} running bans, from a snapshot at offset {SnapshotOffset} "
                    + "({SnapshotBans} bans) and {Events} events after it", (long)took.TotalMilliseconds, running, from.Offset,
                    from.Bans.Count, loaded.Events);
            else
                _log.Info("Ban index rebuilt in {Elapsed} ms: {Running} running bans from {Events} events",
                    (long)took.TotalMilliseconds, running, loaded.Events);
            Become(Ready);
            Stash.UnstashAll();
            if (_followJournal) StartFollowing();
            ScheduleDue();
            MaybeSave();
        });
        Receive<SnapshotLoaded>(loaded =>
        {
            if (loaded.Problem is { } problem)
                _log.Warning("The ban index snapshot could not be loaded ({Problem}); rebuilding from the whole journal", problem);
            if (loaded.Snapshot is not null) _lastSavedSequenceNr = loaded.SequenceNr;
            ReadJournalFrom(loaded.Snapshot);
        });
        Receive<SaveBeforeStop>(_ => Sender.Tell(Done.Instance));
        Receive<Status.Failure>(failure =>
        {
            _log.Error(failure.Cause, "Rebuilding the ban index from the journal failed; retrying in {Delay}", RetryDelay);
            RetryLater(Reload.Instance);
        });
        Receive<Reload>(_ => StartLoad());
        Receive<IsIndexReady>(_ => Sender.Tell(false));
        ReceiveAny(_ => Stash.Stash());
    }

    private void Ready()
    {
        Receive<BanStarted>(e =>
        {
            // The same change may have come from the journal first (the tail in a cluster, the read before a snapshot
            // on one node): its notice still tells who holds the wake-up.
            if (!ApplyLive(e.User, new UserBanned(e.User, e.At ?? e.Until, e.Until, e.Reason, e.Operator), e.SequenceNr)
                && !(_entries.TryGetValue(e.User, out var seen) && seen.SequenceNr == e.SequenceNr && seen.Until == e.Until))
                return;
            HeldBy(e.User, e.Holder);
        });
        Receive<BanEnded>(e => ApplyLive(e.User, null, e.SequenceNr));
        Receive<ExpiryTaken>(e =>
        {
            if (_entries.TryGetValue(e.User, out var entry) && entry.Until == e.Until) HeldBy(e.User, e.Holder);
        });
        Receive<Terminated>(t =>
        {
            if (!_holders.Remove(t.ActorRef, out var user)) return;
            if (!_entries.TryGetValue(user, out var entry) || !Equals(entry.Holder, t.ActorRef)) return;
            _entries[user] = entry with { Holder = null };
            if (entry.Until is { } until) HoldWakeUp(user, until);
        });
        Receive<JournalChange>(c =>
        {
            if (c.Offset > _journalOffset) _journalOffset = c.Offset;
            // Seen here first, the change's notice was lost: whether an actor holds a timer is unknown, so the index
            // holds a wake-up too (an early or second wake-up is harmless: the actor records each expiry once).
            if (ApplyLive(c.User, c.Ban, c.SequenceNr) && c.Ban?.Until is { } until) HoldWakeUp(c.User, until);
        });
        Receive<FollowFailed>(_ =>
        {
            _log.Warning("Following the journal failed; resuming from offset {Offset} in {Delay}", _journalOffset, RetryDelay);
            RetryLater(Follow.Instance);
        });
        Receive<Follow>(_ => StartFollowing());
        Receive<SaveDue>(_ =>
        {
            _saveTimer?.Dispose();
            _saveTimer = null;
            MaybeSave();
        });
        Receive<CaughtUp>(_ => WriteSnapshot());
        Receive<HighWater>(h =>
        {
            // Everything up to Covered is applied; what the notices brought after it is in the state as well, and a
            // start from this snapshot reads those events again (each a no-op by its sequence number).
            _journalOffset = Math.Max(_journalOffset, h.Covered);
            _loadReport = _loadReport with { SavesFromHighWater = _loadReport.SavesFromHighWater + 1 };
            WriteSnapshot();
        });
        Receive<HighWaterUnknown>(_ => CatchUpByReading());
        Receive<CatchUpFailed>(f =>
        {
            _log.Warning(f.Cause, "Reading the journal before a ban index snapshot failed; the snapshot waits for the next try");
            SaveEnded();
        });
        Receive<SaveBeforeStop>(_ =>
        {
            if (_snapshots is not { Enabled: true } || _changesSinceSave == 0 && !_saving)
            {
                Sender.Tell(Done.Instance);
                return;
            }
            _waitingForSave.Add(Sender);
            if (!_saving) BeginSave();
        });
        Receive<SaveSnapshotSuccess>(saved =>
        {
            _lastSavedSequenceNr = saved.Metadata.SequenceNr;
            _loadReport = _loadReport with { SnapshotsSaved = _loadReport.SnapshotsSaved + 1 };
            _changesSinceSave = Math.Max(0, _changesSinceSave - _changesInSave);
            // Only the newest is kept: older ones would only be read if the newest could not be.
            if (saved.Metadata.SequenceNr > 1 && SnapshotStore(_snapshots!) is { } store)
                store.Tell(new DeleteSnapshots(_snapshots!.PersistenceId,
                    new SnapshotSelectionCriteria(saved.Metadata.SequenceNr - 1)), Self);
            _log.Debug("Ban index snapshot saved at offset {Offset}", saved.Metadata.SequenceNr);
            SaveEnded();
        });
        Receive<SaveSnapshotFailure>(failed =>
        {
            _log.Warning(failed.Cause, "Saving the ban index snapshot failed; the next start reads the journal from the one before");
            SaveEnded();
        });
        Receive<DeleteSnapshotsSuccess>(_ => { });
        Receive<DeleteSnapshotsFailure>(failed =>
            _log.Warning(failed.Cause, "Deleting older ban index snapshots failed; they are deleted after the next save"));
        Receive<Done>(_ => { });
        Receive<ListActiveBans>(q => Sender.Tell(List(q)));
        Receive<IsIndexReady>(_ => Sender.Tell(true));
        Receive<GetExpiryHolders>(_ => Sender.Tell(Holders()));
        Receive<GetIndexLoadReport>(_ => Sender.Tell(_loadReport));
        Receive<Due>(_ =>
        {
            _dueTimerAt = null;
            SendDueExpiries();
        });
        Receive<ExpiryHandled>(_ =>
        {
            _inFlight--;
            SendDueExpiries();
        });
        Receive<ExpiryFailed>(f =>
        {
            _inFlight--;
            _log.Warning("Expiry of {User} was not confirmed; retrying", f.User);
            if (_entries.TryGetValue(f.User, out var entry) && entry.Until == f.Until && entry.Holder is null)
                _due.Enqueue(f.User, _clock.GetUtcNow() + RetryDelay);
            SendDueExpiries();
        });
    }

    private void HeldBy(UserKey user, IActorRef holder)
    {
        var entry = _entries[user];
        if (entry.Holder is { } previous && !previous.Equals(holder)) _holders.Remove(previous);
        _entries[user] = entry with { Holder = holder };
        if (_holders.TryAdd(holder, user)) Context.Watch(holder);
        // A wake-up still queued for this user is skipped when it comes up; the queue's timer follows the new head.
        ScheduleDue();
    }

    private void HoldWakeUp(UserKey user, DateTimeOffset until)
    {
        _due.Enqueue(user, until);
        ScheduleDue();
    }

    // Applies an event unless a newer one for the same user was seen already (notifications and the journal replay
    // can overlap at start, and a notice can arrive after the journal tail delivered the same change).
    private static bool Apply(Dictionary<UserKey, Entry> entries, UserKey user, UserBanned? ban, long sequenceNr)
    {
        if (entries.TryGetValue(user, out var existing) && existing.SequenceNr >= sequenceNr) return false;
        entries[user] = ban is null
            ? new Entry(null, sequenceNr)
            : new Entry(ban.Until, sequenceNr, existing?.Holder, ban.At, ban.Reason, ban.Operator);
        return true;
    }

    private bool ApplyLive(UserKey user, UserBanned? ban, long sequenceNr)
    {
        var wasRunning = _entries.TryGetValue(user, out var before) && before.Until is not null;
        if (!Apply(_entries, user, ban, sequenceNr)) return false;
        var isRunning = ban is not null;
        if (isRunning != wasRunning) _running.Add(user.AppKey, isRunning ? 1 : -1);
        // Only what the snapshot holds counts: an end of a ban it does not know (a tombstone) leaves it as it is.
        if (!isRunning && !wasRunning) return true;
        _changesSinceSave++;
        MaybeSave();
        return true;
    }

    private void MaybeSave()
    {
        if (_snapshots is not { Enabled: true } snapshots || _saving || _changesSinceSave < snapshots.AfterChanges) return;
        if (_lastSaveAt is { } last && last + snapshots.MinInterval > _clock.GetUtcNow())
        {
            if (_saveTimer is null)
            {
                var self = Self;
                _saveTimer = ClockTimers.At(_clock, last + snapshots.MinInterval, () => self.Tell(SaveDue.Instance));
            }
            return;
        }
        BeginSave();
    }

    // Following the journal, the index knows the offset it has applied. On one node it learns changes from notices,
    // which carry no offset: on SQLite it walks the journal's orderings, persistence ids and sequence numbers after its
    // offset (JournalHighWater, no event read) up to the first one it has not applied; elsewhere it reads the events
    // since its offset (each is applied once; the rest are no-ops).
    private void BeginSave()
    {
        _saving = true;
        _lastSaveAt = _clock.GetUtcNow();
        if (_followJournal)
        {
            WriteSnapshot();
            return;
        }
        if (HighWaterReader() is { } read)
        {
            var applied = new Dictionary<string, long>(_entries.Count, StringComparer.Ordinal);
            foreach (var (user, entry) in _entries) applied[user.PersistenceId] = entry.SequenceNr;
            read(_journalOffset, applied, CancellationToken.None).PipeTo(Self, success: covered => new HighWater(covered),
                failure: _ => HighWaterUnknown.Instance);
            return;
        }
        CatchUpByReading();
    }

    private Func<long, IReadOnlyDictionary<string, long>, CancellationToken, Task<long>>? HighWaterReader()
    {
        if (_highWaterChecked) return _highWater;
        _highWaterChecked = true;
        try
        {
            _highWater = JournalHighWater.For(Context.System, BanEngineConfig.JournalPluginId, UserKey.PersistenceIdPrefix);
        }
        catch (Exception e)
        {
            _log.Warning(e, "The journal's high-water read could not be set up; snapshots read the events before saving");
        }
        return _highWater;
    }

    private void CatchUpByReading()
    {
        if (ReadJournal<ICurrentEventsByTagQuery>() is not { } journal)
        {
            Self.Tell(new CatchUpFailed(new InvalidOperationException("the read journal could not start")));
            return;
        }
        var self = Self;
        journal.CurrentEventsByTag(BanTags.Ban, Offset.Sequence(_journalOffset))
            .RunForeach(envelope =>
            {
                var offset = envelope.Offset is Sequence seq ? seq.Value : 0L;
                switch (envelope.Event)
                {
                    case UserBanned e: self.Tell(new JournalChange(e.User, e, envelope.SequenceNr, offset)); break;
                    case UserUnbanned e: self.Tell(new JournalChange(e.User, null, envelope.SequenceNr, offset)); break;
                }
            }, Materializer)
            .PipeTo(self, success: () => CaughtUp.Instance, failure: e => new CatchUpFailed(e));
    }

    private void WriteSnapshot()
    {
        if (_snapshots is not { } snapshots || SnapshotStore(snapshots) is not { } store)
        {
            SaveEnded();
            return;
        }
        var bans = new List<IndexSnapshot.RunningBan>();
        foreach (var (user, entry) in _entries)
            if (entry.Until is { } until)
                bans.Add(new IndexSnapshot.RunningBan(user, until, entry.SequenceNr, entry.Since, entry.Reason, entry.Operator));
        _changesInSave = _changesSinceSave;
        // The offset is the snapshot's sequence number, so the newest is the one the store loads; a second save at the
        // same offset (changes only notices brought) still gets a number of its own.
        var sequenceNr = Math.Max(_journalOffset, _lastSavedSequenceNr + 1);
        store.Tell(new SaveSnapshot(new SnapshotMetadata(snapshots.PersistenceId, sequenceNr, _clock.GetUtcNow().UtcDateTime),
            new IndexSnapshot(_journalOffset, bans)), Self);
    }

    private void SaveEnded()
    {
        _saving = false;
        foreach (var waiting in _waitingForSave) waiting.Tell(Done.Instance);
        _waitingForSave.Clear();
        MaybeSave();
    }

    private bool IsHeldByIndex(UserKey user, DateTimeOffset at) =>
        _entries.TryGetValue(user, out var entry) && entry.Until == at && entry.Holder is null;

    private ExpiryHolders Holders()
    {
        var now = _clock.GetUtcNow();
        var running = _entries.Where(kv => BanRules.IsBanned(kv.Value.Until, now)).ToList();
        return new ExpiryHolders(
            running.Where(kv => kv.Value.Holder is not null).Select(kv => kv.Key).ToList(),
            running.Where(kv => kv.Value.Holder is null).Select(kv => kv.Key).ToList(),
            _dueTimer is not null);
    }

    private ActiveBanPage List(ListActiveBans query)
    {
        var now = _clock.GetUtcNow();
        var all = _entries
            .Where(kv => kv.Key.AppKey == query.AppKey && BanRules.IsBanned(kv.Value.Until, now))
            .Select(kv => new ActiveBan(kv.Key.UserId, kv.Value.Until!.Value, kv.Value.Since, kv.Value.Reason, kv.Value.Operator))
            .ToList();
        var running = all
            .OrderByDescending(b => b.Until)
            .ThenBy(b => b.UserId, StringComparer.Ordinal);
        // Pages stay at most MaxPageSize long: in a cluster the answer crosses nodes, and a page of 10,000 bans
        // is over Akka.Remote's frame size (it would be dropped and the caller would time out).
        var size = Math.Clamp(query.Size, 0, BanRules.MaxPageSize);
        var page = query.Page <= 0
            ? running.Take(BanRules.MaxPageSize)
            : running.Skip((int)Math.Min(int.MaxValue, (long)(query.Page - 1) * size)).Take(size);
        return new ActiveBanPage(page.ToList(), all.Count);
    }

    private void SendDueExpiries()
    {
        var now = _clock.GetUtcNow();
        while (_inFlight < _maxExpiriesInFlight && _due.TryPeek(out var user, out var at) && at <= now)
        {
            _due.Dequeue();
            if (!_entries.TryGetValue(user, out var entry) || entry.Holder is not null || entry.Until is not { } until
                || until > now) continue;
            _inFlight++;
            _bans.Ask<ExpiryHandled>(new ExpireBan(user, until), _expiryTimeout)
                .PipeTo(Self, success: handled => handled, failure: _ => new ExpiryFailed(user, until));
        }
        ScheduleDue();
    }

    // One timer for the whole queue, armed for the earliest wake-up the index holds (none when it holds none).
    private void ScheduleDue()
    {
        while (_due.TryPeek(out var head, out var headAt) && !IsHeldByIndex(head, headAt) && !IsRetry(head, headAt))
            _due.Dequeue();
        // With every slot taken, the next ExpiryHandled drains the queue; a timer would only spin.
        if (_inFlight >= _maxExpiriesInFlight || !_due.TryPeek(out _, out var next))
        {
            _dueTimer?.Dispose();
            _dueTimer = null;
            _dueTimerAt = null;
            return;
        }
        if (_dueTimerAt == next && _dueTimer is not null) return;
        _dueTimer?.Dispose();
        var self = Self;
        _dueTimerAt = next;
        _dueTimer = ClockTimers.At(_clock, next, () => self.Tell(Due.Instance));
    }

    // A retried expiry is queued at "now + delay", not at its end time.
    private bool IsRetry(UserKey user, DateTimeOffset at) =>
        _entries.TryGetValue(user, out var entry) && entry.Holder is null && entry.Until is { } until && until < at;
}
