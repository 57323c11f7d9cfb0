using Akka.Actor;
using Akka.Event;
using BanActors.Bans;
using BanActors.Hosting;

namespace BanActors.Sessions;

/// <summary>
/// Knows the live sessions of each user on this node, admits a session only after the user's ban actor
/// said "not banned", and closes every session of a user the moment a ban starts. It answers for this node only;
/// in a cluster, <c>ClusterSessions</c> asks every node's registry the same questions and adds up the answers.
/// </summary>
/// <remarks>
/// A session waits in "pending" while its admission is checked, and a <see cref="BanStarted"/> kicks pending
/// sessions too. The ban actor persists the ban before it publishes it and answers status questions in
/// order, so whichever arrives first, a session of a banned user never stays live.
/// </remarks>
internal sealed class ConnectionRegistry : ReceiveActor
{
    /// <summary>The registry's name on every node: <c>/user/connections</c>.</summary>
    public const string Name = "connections";

    private sealed record AdmissionChecked(UserKey User, string SessionId, BanStatus Status);
    private sealed record AdmissionFailed(UserKey User, string SessionId, Exception Cause);
    private sealed record Pending(IBanSession Session, IActorRef ReplyTo);

    private readonly IActorRef _bans;
    private readonly TimeSpan _admissionTimeout;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<UserKey, Dictionary<string, IBanSession>> _live = new();
    private readonly Dictionary<UserKey, Dictionary<string, Pending>> _pending = new();

    public ConnectionRegistry(IActorRef bans, TimeSpan admissionTimeout)
    {
        _bans = bans;
        _admissionTimeout = admissionTimeout;

        Receive<RegisterSession>(Register);
        Receive<AdmissionChecked>(OnAdmissionChecked);
        Receive<AdmissionFailed>(OnAdmissionFailed);
        Receive<UnregisterSession>(Unregister);
        Receive<BanStarted>(KickAll);
        Receive<GetOnlineStatus>(q => Sender.Tell(LocalStatus(q.User)));
        Receive<DeliverToUser>(d => Sender.Tell(Deliver(d.Message)));
        Receive<KeptMessagesAvailable>(k => NotifyKept(k.User));
    }

    public static Props Props(IActorRef bans, TimeSpan? admissionTimeout = null) =>
        Akka.Actor.Props.Create(() => new ConnectionRegistry(bans, admissionTimeout ?? TimeSpan.FromSeconds(10)));

    private OnlineStatus LocalStatus(UserKey user)
    {
        var count = _live.TryGetValue(user, out var sessions) ? sessions.Count : 0;
        return new OnlineStatus(user, count > 0, count);
    }

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(BanStarted));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private void Register(RegisterSession register)
    {
        var (user, session) = (register.User, register.Session);
        GetOrAdd(_pending, user)[session.SessionId] = new Pending(session, Sender);
        _bans.Ask<BanStatus>(new GetBanStatus(user), _admissionTimeout)
            .PipeTo(Self,
                success: status => new AdmissionChecked(user, session.SessionId, status),
                failure: ex => new AdmissionFailed(user, session.SessionId, ex));
    }

    private void OnAdmissionChecked(AdmissionChecked checkedMsg)
    {
        if (!TryTakePending(checkedMsg.User, checkedMsg.SessionId, out var pending)) return;
        if (checkedMsg.Status.IsBanned)
        {
            CountRefused(checkedMsg.User, "banned");
            pending.ReplyTo.Tell(Refused(checkedMsg.User, checkedMsg.SessionId, checkedMsg.Status.Until, checkedMsg.Status.Reason));
            return;
        }
        GetOrAdd(_live, checkedMsg.User)[checkedMsg.SessionId] = pending.Session;
        pending.ReplyTo.Tell(new SessionAccepted(checkedMsg.User, checkedMsg.SessionId));
    }

    private void OnAdmissionFailed(AdmissionFailed failed)
    {
        if (!TryTakePending(failed.User, failed.SessionId, out var pending)) return;
        _log.Warning(failed.Cause, "Could not check the ban status of {User}; refusing the session", failed.User);
        CountRefused(failed.User, "unavailable");
        pending.ReplyTo.Tell(new SessionRefused(failed.User, failed.SessionId, ConnectionCodes.ServerUnavailable,
            "SERVER_UNAVAILABLE"));
    }

    private void Unregister(UnregisterSession unregister)
    {
        Remove(_live, unregister.User, unregister.SessionId);
        if (TryTakePending(unregister.User, unregister.SessionId, out var pending))
            pending.ReplyTo.Tell(new SessionRefused(unregister.User, unregister.SessionId, ConnectionCodes.ServerUnavailable,
                "SESSION_CLOSED"));
    }

    private MessageDelivered Deliver(UserMessage message)
    {
        var user = message.To;
        var taken = 0;
        if (_live.TryGetValue(user, out var sessions))
        {
            foreach (var session in sessions.Values)
            {
                try
                {
                    if (session.TryDeliver(message)) taken++;
                }
                catch (Exception ex)
                {
                    _log.Warning(ex, "Session {SessionId} failed to take a message", session.SessionId);
                }
            }
        }
        return new MessageDelivered(user, taken);
    }

    private void NotifyKept(UserKey user)
    {
        if (!_live.TryGetValue(user, out var sessions)) return;
        foreach (var session in sessions.Values)
        {
            try
            {
                session.NotifyKeptMessages();
            }
            catch (Exception ex)
            {
                _log.Warning(ex, "Session {SessionId} failed to take the kept-messages notice", session.SessionId);
            }
        }
    }

    private void KickAll(BanStarted started)
    {
        using var span = started.Trace == default
            ? null
            : BanTracing.Source.StartActivity("kick", System.Diagnostics.ActivityKind.Internal, started.Trace);
        var kicked = 0;
        if (_live.Remove(started.User, out var sessions))
        {
            foreach (var session in sessions.Values)
            {
                Kick(session, started);
                kicked++;
            }
        }
        if (_pending.Remove(started.User, out var pendings))
        {
            foreach (var (sessionId, pending) in pendings)
                pending.ReplyTo.Tell(Refused(started.User, sessionId, started.Until, started.Reason));
            CountRefused(started.User, "banned", pendings.Count);
        }
        if (kicked > 0) BanMetrics.SessionsKicked.Add(kicked, BanMetrics.AppTag(started.User.AppKey));
        span?.SetTag("banactors.sessions", kicked);
        if (kicked > 0) _log.Info("Kicked {Count} sessions of banned user {User}", kicked, started.User);
    }

    private void Kick(IBanSession session, BanStarted started)
    {
        try
        {
            session.KickBanned(started.Until, started.Reason);
        }
        catch (Exception ex)
        {
            _log.Warning(ex, "Session {SessionId} failed while being kicked", session.SessionId);
        }
    }

    private static void CountRefused(UserKey user, string cause, int count = 1) =>
        BanMetrics.ConnectsRefused.Add(count, BanMetrics.AppTag(user.AppKey), new KeyValuePair<string, object?>(BanMetrics.Cause, cause));

    private static SessionRefused Refused(UserKey user, string sessionId, DateTimeOffset? until, string? banReason) =>
        new(user, sessionId, ConnectionCodes.UserBlocked, ConnectionCodes.UserBlockedReason, until, banReason);

    private bool TryTakePending(UserKey user, string sessionId, out Pending pending)
    {
        pending = null!;
        if (!_pending.TryGetValue(user, out var byId) || !byId.Remove(sessionId, out var found)) return false;
        if (byId.Count == 0) _pending.Remove(user);
        pending = found;
        return true;
    }

    private static Dictionary<string, T> GetOrAdd<T>(Dictionary<UserKey, Dictionary<string, T>> map, UserKey user)
    {
        if (!map.TryGetValue(user, out var byId)) map[user] = byId = new Dictionary<string, T>();
        return byId;
    }

    private static void Remove<T>(Dictionary<UserKey, Dictionary<string, T>> map, UserKey user, string sessionId)
    {
        if (map.TryGetValue(user, out var byId) && byId.Remove(sessionId) && byId.Count == 0) map.Remove(user);
    }
}
