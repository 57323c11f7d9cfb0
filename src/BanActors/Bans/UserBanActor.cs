using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Akka.Persistence.Journal;
using BanActors.Hosting;
using BanActors.Storage;

namespace BanActors.Bans;

/// <summary>
/// One user's ban state, event-sourced. Answers a ban only after it is persisted, and records the expiry itself at
/// the end time. While alive and banned it holds the only timer of its ban; the expiry index watches it and holds
/// the wake-up instead once it stops (passivated, crashed, its node lost), and wakes it at the end time.
/// </summary>
internal sealed class UserBanActor : UntypedPersistentActor
{
    /// <summary>Tells the actor to stop after its parent agreed to passivate it.</summary>
    public sealed class Stop
    {
        public static readonly Stop Instance = new();
        private Stop() { }
    }

    private sealed record ExpiryTimerFired(DateTimeOffset Until);

    private readonly UserKey _user;
    private readonly UserBanActorSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly JournalWriteMonitor _writes = JournalWriteMonitor.Get(Context.System);
    // The running ban (or the last one, until an unban is recorded); null when none.
    private UserBanned? _ban;
    private ITimer? _expiryTimer;
    private IActorRef? _awaitingWrite;
    private bool _holdsPermit;
    // The span of the command whose write comes next (none for an expiry).
    private ActivityContext _trace;
    private Activity? _writeSpan;
    // The write that waits for a permit from the write gate; while set, other commands are stashed.
    private (object Event, IActorRef? ReplyTo, Action OnPersisted)? _waitingForPermit;
    // Who sent a command while the actor recovers. Akka keeps those commands in an internal stash that it drops
    // if recovery fails (the database cannot be read); their senders are then told at once instead of waiting
    // for their own timeout.
    private List<IActorRef>? _sentDuringRecovery;

    public UserBanActor(UserKey user, UserBanActorSettings settings)
    {
        _user = user;
        _settings = settings;
        PersistenceId = user.PersistenceId;
        if (settings.JournalPluginId is not null) JournalPluginId = settings.JournalPluginId;
        if (settings.SnapshotPluginId is not null) SnapshotPluginId = settings.SnapshotPluginId;
    }

    public override string PersistenceId { get; }

    /// <summary>
    /// Props that create the actor with a plain constructor call. <c>Props.Create(() =&gt; new UserBanActor(...))</c>
    /// built and parsed an expression tree and created the actor by reflection, once per user actor started:
    /// measurable on a burst of first bans (docs/BENCHMARKS.md, "What was learned").
    /// </summary>
    public static Props Props(UserKey user, UserBanActorSettings settings) =>
        Akka.Actor.Props.CreateBy(new Producer(user, settings));

    private sealed class Producer(UserKey user, UserBanActorSettings settings) : IIndirectActorProducer
    {
        public Type ActorType => typeof(UserBanActor);

        public ActorBase Produce() => new UserBanActor(user, settings);

        public void Release(ActorBase actor) { }
    }

    protected override bool AroundReceive(Receive receive, object message)
    {
        if (!IsRecoveryFinished && message is IWithUserKey && !Sender.IsNobody()) (_sentDuringRecovery ??= []).Add(Sender);
        return base.AroundReceive(receive, message);
    }

    // Plain switches rather than ReceivePersistentActor's handler tables, which every instance built anew.
    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case UserBanned e: _ban = e; break;
            case UserUnbanned: _ban = null; break;
            case SnapshotOffer { Snapshot: BanSnapshot snapshot }: _ban = snapshot.Ban; break;
            case RecoveryCompleted:
                _sentDuringRecovery = null;
                OnRecovered();
                break;
        }
    }

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        base.OnRecoveryFailure(reason, message);
        foreach (var sender in _sentDuringRecovery ?? []) sender.Tell(new BanCommandFailed(_user, "the journal could not be read"));
        _sentDuringRecovery = null;
    }

    protected override void OnCommand(object message)
    {
        if (_waitingForPermit is { } write)
        {
            WaitForPermit(message, write);
            return;
        }
        switch (message)
        {
            case BanUser ban: HandleBan(ban); break;
            case UnbanUser unban: HandleUnban(unban); break;
            case GetBanStatus: Sender.Tell(CurrentStatus()); break;
            case GetLastSequenceNr: Sender.Tell(new LastSequenceNrIs(_user, LastSequenceNr)); break;
            case ExpireBan expire: HandleExpiry(expire.Until, Sender); break;
            case ExpiryTimerFired fired: HandleExpiry(fired.Until, null); break;
            case ReceiveTimeout: Context.Parent.Tell(_settings.Passivate(Stop.Instance)); break;
            case Stop: Context.Stop(Self); break;
            case SaveSnapshotSuccess: break;
            case SaveSnapshotFailure failure:
                _log.Warning(failure.Cause, "Snapshot of {PersistenceId} failed", PersistenceId);
                break;
            default: Unhandled(message); break;
        }
    }

    private DateTimeOffset Now => _settings.Clock.GetUtcNow();

    private BanStatus CurrentStatus()
    {
        var banned = BanRules.IsBanned(_ban?.Until, Now);
        return banned ? new BanStatus(_user, true, _ban!.Until, _ban.Reason) : new BanStatus(_user, false, null);
    }

    private void OnRecovered()
    {
        if (_ban?.Until is { } until)
        {
            if (Now >= until)
            {
                // Now, not by a message to self: the commands that waited for the recovery come next, and a re-ban
                // among them must find this ban recorded as ended (and its expiry in the ledger).
                HandleExpiry(until, null);
            }
            else
            {
                // The index holds a wake-up for every running ban whose actor is not alive; this one now holds its own.
                ArmExpiry(until);
                _settings.Publish(new ExpiryTaken(_user, until, Self));
            }
        }
        Context.SetReceiveTimeout(_settings.IdleTimeout);
    }

    private void HandleBan(BanUser cmd)
    {
        if (cmd.User != _user)
        {
            Sender.Tell(new BanRejected(cmd.User, "message routed to the wrong user"));
            return;
        }
        if ((BanRules.ValidateBan(cmd.User, cmd.Minutes) ?? BanRules.ValidateDetails(cmd.Details)) is { } reason)
        {
            Sender.Tell(new BanRejected(cmd.User, reason));
            return;
        }

        var now = Now;
        var trace = _trace = cmd.Trace;
        var banned = new UserBanned(_user, now, now.AddMinutes(cmd.Minutes), cmd.Details?.Reason, cmd.Details?.Operator);
        var replyTo = Sender;
        Write(banned, replyTo, () =>
        {
            _ban = banned;
            BanMetrics.Bans.Add(1, BanMetrics.AppTag(_user.AppKey));
            ArmExpiry(banned.Until);
            _settings.Publish(new BanStarted(_user, banned.Until, LastSequenceNr, Self, banned.At, banned.Reason, banned.Operator)
            {
                Trace = trace,
            });
            if (_settings.Audit is { } audit) BanAudit.Banned(audit, _user, banned.Until, banned.Operator);
            replyTo.Tell(new BanAccepted(_user, banned.Until));
        });
    }

    private void HandleUnban(UnbanUser cmd)
    {
        if (BanRules.ValidateDetails(cmd.Details) is { } invalid)
        {
            Sender.Tell(new BanRejected(cmd.User, invalid));
            return;
        }
        if (_ban?.Until is not { } until)
        {
            Sender.Tell(new UnbanAccepted(_user, WasBanned: false));
            return;
        }

        var now = Now;
        var wasBanned = BanRules.IsBanned(until, now);
        // A ban that already ran out is recorded as expired at its end time, not as a manual unban.
        var unbanned = wasBanned
            ? new UserUnbanned(_user, now, UnbanCause.Manual, cmd.Details?.Reason, cmd.Details?.Operator)
            : new UserUnbanned(_user, until, UnbanCause.Expired);
        var replyTo = Sender;
        _trace = cmd.Trace;
        PersistUnban(unbanned, replyTo, () => replyTo.Tell(new UnbanAccepted(_user, wasBanned)));
    }

    private void HandleExpiry(DateTimeOffset until, IActorRef? replyTo)
    {
        if (_ban?.Until != until)
        {
            replyTo?.Tell(new ExpiryHandled(_user, until));
            return;
        }
        if (Now < until)
        {
            ArmExpiry(until);
            replyTo?.Tell(new ExpiryHandled(_user, until));
            return;
        }
        PersistUnban(new UserUnbanned(_user, until, UnbanCause.Expired), replyTo,
            () => replyTo?.Tell(new ExpiryHandled(_user, until)));
    }

    private void PersistUnban(UserUnbanned unbanned, IActorRef? replyTo, Action reply) =>
        Write(unbanned, replyTo, () =>
        {
            _ban = null;
            DisarmExpiry();
            RecordUnban(unbanned);
            _settings.Publish(new BanEnded(_user, unbanned.At, unbanned.Cause, LastSequenceNr));
            if (_settings.Audit is { } audit) BanAudit.Unbanned(audit, _user, unbanned.Cause, unbanned.Operator);
            reply();
        });

    private void RecordUnban(UserUnbanned unbanned)
    {
        var app = BanMetrics.AppTag(_user.AppKey);
        BanMetrics.Unbans.Add(1, app, new KeyValuePair<string, object?>(BanMetrics.Cause, BanMetrics.CauseName(unbanned.Cause)));
        // An expiry's event time is the end time; the lag is how much later the engine's clock recorded it.
        if (unbanned.Cause == UnbanCause.Expired)
            BanMetrics.ExpiryLag.Record(Math.Max(0, (Now - unbanned.At).TotalMilliseconds), app);
    }

    // Every journal write waits for the node's write gate first, stashing this user's other commands meanwhile,
    // so a burst queues here rather than inside the journal (see WriteGate).
    private void Write(object @event, IActorRef? replyTo, Action onPersisted)
    {
        if (_settings.WriteGate is not { } gate)
        {
            PersistNow(@event, replyTo, onPersisted);
            return;
        }
        gate.Tell(AcquireWritePermit.Instance);
        _waitingForPermit = (@event, replyTo, onPersisted);
    }

    private void WaitForPermit(object message, (object Event, IActorRef? ReplyTo, Action OnPersisted) write)
    {
        switch (message)
        {
            case WritePermitGranted:
                _waitingForPermit = null;
                _holdsPermit = true;
                PersistNow(write.Event, write.ReplyTo, write.OnPersisted);
                Stash.UnstashAll();
                break;
            // The write is not durable yet, so the current state is the true answer; status questions (the connect
            // gate) must not wait behind a burst of writes.
            case GetBanStatus:
                Sender.Tell(CurrentStatus());
                break;
            default:
                Stash.Stash();
                break;
        }
    }

    private void PersistNow(object @event, IActorRef? replyTo, Action onPersisted)
    {
        _awaitingWrite = replyTo;
        var started = Stopwatch.GetTimestamp();
        _writeSpan = BanTracing.StartDetached("journal write", _trace);
        _trace = default;
        Persist(new Tagged(@event, BanTags.All), _ =>
        {
            BanMetrics.JournalWriteDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            _writes.Succeeded();
            EndWriteSpan(null);
            _awaitingWrite = null;
            ReleasePermit();
            onPersisted();
            MaybeSnapshot();
        });
    }

    private void ReleasePermit()
    {
        if (!_holdsPermit) return;
        _holdsPermit = false;
        _settings.WriteGate?.Tell(ReleaseWritePermit.Instance);
    }

    private void MaybeSnapshot()
    {
        if (_settings.SnapshotEvery > 0 && LastSequenceNr % _settings.SnapshotEvery == 0)
            SaveSnapshot(new BanSnapshot(_user, _ban));
    }

    private void ArmExpiry(DateTimeOffset until)
    {
        DisarmExpiry();
        var self = Self;
        var fired = new ExpiryTimerFired(until);
        _expiryTimer = ClockTimers.At(_settings.Clock, until, () => self.Tell(fired));
    }

    private void DisarmExpiry()
    {
        _expiryTimer?.Dispose();
        _expiryTimer = null;
    }

    private void EndWriteSpan(string? error)
    {
        if (error is not null) _writeSpan?.SetStatus(ActivityStatusCode.Error, error);
        BanTracing.StopDetached(_writeSpan);
        _writeSpan = null;
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        _writes.Failed(cause);
        EndWriteSpan(cause.Message);
        _awaitingWrite?.Tell(new BanCommandFailed(_user, "the journal could not store the change"));
        _awaitingWrite = null;
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        EndWriteSpan(cause.Message);
        _awaitingWrite?.Tell(new BanCommandFailed(_user, "the journal rejected the change"));
        _awaitingWrite = null;
        // The actor lives on after a rejection; a failure stops it, and the gate sees it stop.
        ReleasePermit();
        base.OnPersistRejected(cause, @event, sequenceNr);
    }

    protected override void PostStop()
    {
        DisarmExpiry();
        base.PostStop();
    }
}
