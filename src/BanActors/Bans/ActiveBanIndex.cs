using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence.Query;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace BanActors.Bans;

/// <summary>Lists the running bans of one app, sorted by end time descending; answered with <see cref="ActiveBanPage"/>.</summary>
/// <param name="Page">1-based page; 0 means no paging (the first <see cref="ActiveBanIndex.UnpagedLimit"/>).</param>
/// <param name="Size">Bans per page, at most <see cref="ActiveBanIndex.UnpagedLimit"/>.</param>
public sealed record ListActiveBans(string AppKey, int Page, int Size);

/// <summary>One running ban.</summary>
public sealed record ActiveBan(string UserId, DateTimeOffset Until);

/// <summary>A page of running bans.</summary>
public sealed record ActiveBanPage(IReadOnlyList<ActiveBan> Bans);

/// <summary>Answers <c>true</c> once the index has been rebuilt from the journal.</summary>
public sealed class IsIndexReady
{
    public static readonly IsIndexReady Instance = new();
    private IsIndexReady() { }
}

/// <summary>
/// The read side: every running ban of this engine, rebuilt from the journal's tagged events at start and
/// kept current by <see cref="BanStarted"/>/<see cref="BanEnded"/>. It serves the block list and wakes a
/// user's actor at the end of its ban, so bans lift on time after a restart with nobody asking and
/// without keeping an actor alive per banned user.
/// </summary>
public sealed class ActiveBanIndex : ReceiveActor, IWithStash, IWithTimers
{
    public const int UnpagedLimit = 1000;

    private sealed record Entry(DateTimeOffset? Until, long SequenceNr);
    private sealed class LoadState
    {
        public Dictionary<UserKey, Entry> Entries { get; } = new();
        public long LastOffset { get; set; }
    }
    private sealed record Loaded(Dictionary<UserKey, Entry> Entries, long LastOffset);
    private sealed record JournalChange(UserKey User, DateTimeOffset? Until, long SequenceNr, long Offset);
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
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private Dictionary<UserKey, Entry> _entries = new();
    private readonly PriorityQueue<UserKey, DateTimeOffset> _due = new();
    private int _inFlight;
    private ITimer? _dueTimer;
    private DateTimeOffset? _dueTimerAt;
    private long _journalOffset;
    private UniqueKillSwitch? _follower;
    private IMaterializer? _materializer;

    /// <param name="followJournal">
    /// Also tail the journal's live tag query after the rebuild. In a cluster the notifications travel by
    /// DistributedPubSub, which is at-most-once (a node can die between persisting and publishing); the
    /// journal tail makes sure no durable ban is missed, the notifications only make the index current sooner.
    /// </param>
    public ActiveBanIndex(IActorRef bans, TimeProvider clock, string queryPluginId, int maxExpiriesInFlight, TimeSpan expiryTimeout,
        bool followJournal = false)
    {
        _followJournal = followJournal;
        _bans = bans;
        _clock = clock;
        _queryPluginId = queryPluginId;
        _maxExpiriesInFlight = maxExpiriesInFlight;
        _expiryTimeout = expiryTimeout;
        Loading();
    }

    public IStash Stash { get; set; } = null!;

    private IMaterializer Materializer => _materializer ??= Context.Materializer();

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef bans, TimeProvider clock, string queryPluginId,
        int maxExpiriesInFlight = 64, TimeSpan? expiryTimeout = null, bool followJournal = false) =>
        Akka.Actor.Props.Create(() => new ActiveBanIndex(bans, clock, queryPluginId, maxExpiriesInFlight,
            expiryTimeout ?? TimeSpan.FromSeconds(30), followJournal));

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(BanStarted));
        Context.System.EventStream.Subscribe(Self, typeof(BanEnded));
        StartLoad();
    }

    protected override void PostStop()
    {
        _dueTimer?.Dispose();
        _follower?.Shutdown();
        Context.System.EventStream.Unsubscribe(Self);
    }

    private void StartLoad()
    {
        if (ReadJournal<ICurrentEventsByTagQuery>() is not { } journal)
        {
            Self.Tell(new Status.Failure(new InvalidOperationException("the read journal could not start")));
            return;
        }
        var materializer = Materializer;
        journal.CurrentEventsByTag(BanTags.Ban, Offset.NoOffset())
            .RunAggregate(new LoadState(), (state, envelope) =>
            {
                switch (envelope.Event)
                {
                    case UserBanned e: Apply(state.Entries, e.User, e.Until, envelope.SequenceNr); break;
                    case UserUnbanned e: Apply(state.Entries, e.User, null, envelope.SequenceNr); break;
                }
                if (envelope.Offset is Sequence seq && seq.Value > state.LastOffset) state.LastOffset = seq.Value;
                return state;
            }, materializer)
            .PipeTo(Self, success: state => new Loaded(state.Entries, state.LastOffset));
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
                    UserBanned e => new JournalChange(e.User, e.Until, envelope.SequenceNr, offset),
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

    private void Loading()
    {
        Receive<Loaded>(loaded =>
        {
            _entries = loaded.Entries;
            _journalOffset = loaded.LastOffset;
            var running = 0;
            foreach (var (user, entry) in _entries)
            {
                if (entry.Until is not { } until) continue;
                _due.Enqueue(user, until);
                running++;
            }
            _log.Info("Ban index rebuilt: {Running} running bans", running);
            Become(Ready);
            Stash.UnstashAll();
            if (_followJournal) StartFollowing();
            ScheduleDue();
        });
        Receive<Status.Failure>(failure =>
        {
            _log.Error(failure.Cause, "Rebuilding the ban index from the journal failed; retrying in 5 s");
            Timers.StartSingleTimer("reload", Reload.Instance, TimeSpan.FromSeconds(5));
        });
        Receive<Reload>(_ => StartLoad());
        Receive<IsIndexReady>(_ => Sender.Tell(false));
        ReceiveAny(_ => Stash.Stash());
    }

    private void Ready()
    {
        Receive<BanStarted>(e =>
        {
            if (Apply(_entries, e.User, e.Until, e.SequenceNr))
            {
                _due.Enqueue(e.User, e.Until);
                ScheduleDue();
            }
        });
        Receive<BanEnded>(e => Apply(_entries, e.User, null, e.SequenceNr));
        Receive<JournalChange>(c =>
        {
            if (c.Offset > _journalOffset) _journalOffset = c.Offset;
            if (Apply(_entries, c.User, c.Until, c.SequenceNr) && c.Until is { } until)
            {
                _due.Enqueue(c.User, until);
                ScheduleDue();
            }
        });
        Receive<FollowFailed>(_ =>
        {
            _log.Warning("Following the journal failed; resuming from offset {Offset} in 5 s", _journalOffset);
            Timers.StartSingleTimer("follow", Follow.Instance, TimeSpan.FromSeconds(5));
        });
        Receive<Follow>(_ => StartFollowing());
        Receive<Done>(_ => { });
        Receive<ListActiveBans>(q => Sender.Tell(List(q)));
        Receive<IsIndexReady>(_ => Sender.Tell(true));
        Receive<Due>(_ =>
        {
            _dueTimerAt = null;
            SendDueExpiries();
        });
        Receive<ExpiryHandled>(handled =>
        {
            _inFlight--;
            // A stale entry (a notification replayed after the ban had ended) would otherwise stay forever.
            if (_entries.TryGetValue(handled.User, out var entry) && entry.Until == handled.Until
                && handled.Until <= _clock.GetUtcNow())
                _entries.Remove(handled.User);
            SendDueExpiries();
        });
        Receive<ExpiryFailed>(f =>
        {
            _inFlight--;
            _log.Warning("Expiry of {User} was not confirmed; retrying", f.User);
            if (_entries.TryGetValue(f.User, out var entry) && entry.Until == f.Until)
                _due.Enqueue(f.User, _clock.GetUtcNow().AddSeconds(5));
            SendDueExpiries();
        });
    }

    // Applies an event unless a newer one for the same user was seen already (notifications and the
    // journal replay can overlap at start).
    private static bool Apply(Dictionary<UserKey, Entry> entries, UserKey user, DateTimeOffset? until, long sequenceNr)
    {
        if (entries.TryGetValue(user, out var existing) && existing.SequenceNr >= sequenceNr) return false;
        if (until is null) entries.Remove(user);
        else entries[user] = new Entry(until, sequenceNr);
        return true;
    }

    private ActiveBanPage List(ListActiveBans query)
    {
        var now = _clock.GetUtcNow();
        var running = _entries
            .Where(kv => kv.Key.AppKey == query.AppKey && UserBanActor.IsBanned(kv.Value.Until, now))
            .Select(kv => new ActiveBan(kv.Key.UserId, kv.Value.Until!.Value))
            .OrderByDescending(b => b.Until)
            .ThenBy(b => b.UserId, StringComparer.Ordinal);
        // Pages stay at most UnpagedLimit long: in a cluster the answer crosses nodes, and a page of 10,000 bans
        // is over Akka.Remote's frame size (it would be dropped and the caller would time out).
        var size = Math.Clamp(query.Size, 0, UnpagedLimit);
        var page = query.Page <= 0
            ? running.Take(UnpagedLimit)
            : running.Skip((int)Math.Min(int.MaxValue, (long)(query.Page - 1) * size)).Take(size);
        return new ActiveBanPage(page.ToList());
    }

    private void SendDueExpiries()
    {
        var now = _clock.GetUtcNow();
        while (_inFlight < _maxExpiriesInFlight && _due.TryPeek(out var user, out var at) && at <= now)
        {
            _due.Dequeue();
            // Stale queue items (re-banned, unbanned) are skipped here rather than removed eagerly.
            if (!_entries.TryGetValue(user, out var entry) || entry.Until is not { } until || until > now) continue;
            _inFlight++;
            _bans.Ask<ExpiryHandled>(new ExpireBan(user, until), _expiryTimeout)
                .PipeTo(Self, success: handled => handled, failure: _ => new ExpiryFailed(user, until));
        }
        ScheduleDue();
    }

    private void ScheduleDue()
    {
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
        var delay = next - _clock.GetUtcNow();
        if (delay < TimeSpan.Zero) delay = TimeSpan.Zero;
        if (delay > TimeSpan.FromDays(40)) delay = TimeSpan.FromDays(40);
        var self = Self;
        _dueTimerAt = next;
        _dueTimer = _clock.CreateTimer(_ => self.Tell(Due.Instance), null, delay, Timeout.InfiniteTimeSpan);
    }
}
