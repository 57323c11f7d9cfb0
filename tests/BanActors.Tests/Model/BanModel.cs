using System.Globalization;

namespace BanActors.Tests.Model;

/// <summary>
/// One thing a moderator, a client or the operator does to the engine. Users are indexes into a small pool
/// (<see cref="BanModel.Users"/>) so that random sequences hit the same user often: re-bans, kicks, kept messages.
/// </summary>
internal abstract record Operation
{
    /// <summary>A ban, or a re-ban when the user is banned already (the end time is replaced).</summary>
    public sealed record Ban(int User, int Minutes) : Operation
    {
        public override string ToString() => $"Ban(u{User}, {Minutes} min)";
    }

    public sealed record Unban(int User) : Operation
    {
        public override string ToString() => $"Unban(u{User})";
    }

    /// <summary>Moves the engine's clock; bans whose end time it passes expire.</summary>
    public sealed record Advance(TimeSpan By) : Operation
    {
        public override string ToString() => $"Advance({Format(By)})";

        public static string Format(TimeSpan by) =>
            by.TotalDays >= 1 ? $"{by.TotalDays:0.###} d" : by.TotalMinutes >= 1 ? $"{by.TotalMinutes:0.###} min" : $"{by.TotalSeconds:0} s";
    }

    /// <summary>
    /// The process stops and starts again on the same SQLite file, the clock moving by <see cref="Down"/> meanwhile;
    /// every connection drops.
    /// </summary>
    public sealed record Restart(TimeSpan Down) : Operation
    {
        public override string ToString() => Down == TimeSpan.Zero ? "Restart" : $"Restart(down {Advance.Format(Down)})";
    }

    /// <summary>Nothing happens until every user actor has been passivated; their bans' wake-ups pass to the index.</summary>
    public sealed record Idle : Operation
    {
        public override string ToString() => "Idle";
    }

    /// <summary>A client of the user connects; if admitted, it is given the messages kept for the user.</summary>
    public sealed record Connect(int User) : Operation
    {
        public override string ToString() => $"Connect(u{User})";
    }

    /// <summary>The <see cref="Pick"/>-th live session of the user (modulo their count) closes; nothing if none is live.</summary>
    public sealed record Disconnect(int User, int Pick) : Operation
    {
        public override string ToString() => $"Disconnect(u{User}, #{Pick})";
    }

    /// <summary>Someone sends the user a private message: written to their live sessions, or kept.</summary>
    public sealed record Send(int User) : Operation
    {
        public override string ToString() => $"Send(u{User})";
    }
}

/// <summary>What became of a session, as the model sees it.</summary>
internal enum SessionState
{
    Live,
    Refused,
    Kicked,
    Closed,
    /// <summary>Its process restarted: the connection is gone, neither kicked nor closed by the client.</summary>
    Dropped,
}

/// <summary>
/// The engine as a few dictionaries: what every observation of the real engine must equal after each operation.
/// Pure and deterministic: session ids and message texts are named after the step that made them, so the real run
/// can use the same names.
/// </summary>
internal sealed class BanModel(DateTimeOffset start, TimeSpan retention)
{
    public const int Users = 3;

    private readonly (DateTimeOffset Since, DateTimeOffset Until)?[] _bans = new (DateTimeOffset, DateTimeOffset)?[Users];
    private readonly List<(string Text, DateTimeOffset Sent)>[] _kept = Enumerable.Range(0, Users).Select(_ => new List<(string, DateTimeOffset)>()).ToArray();
    private readonly int[] _pushes = new int[Users];
    // The ledger of each user, oldest first, as the journal records it.
    private readonly List<string>[] _history = Enumerable.Range(0, Users).Select(_ => new List<string>()).ToArray();
    private readonly List<ModelSession> _sessions = [];

    public DateTimeOffset Now { get; private set; } = start;

    public static string UserId(int user) => $"u{user}";

    public static string SessionId(int step) => $"s{step}";

    public static string MessageText(int step) => $"m{step}";

    public bool IsBanned(int user) => _bans[user] is { } ban && Now < ban.Until;

    public DateTimeOffset? BannedUntil(int user) => IsBanned(user) ? _bans[user]!.Value.Until : null;

    public IReadOnlyList<ModelSession> LiveSessions(int user) =>
        _sessions.Where(s => s.User == user && s.State == SessionState.Live).ToList();

    /// <summary>The session a <see cref="Operation.Disconnect"/> closes, or null when the user has none live.</summary>
    public string? DisconnectTarget(Operation.Disconnect disconnect)
    {
        var live = LiveSessions(disconnect.User);
        return live.Count == 0 ? null : live[disconnect.Pick % live.Count].Id;
    }

    /// <summary>Applies <paramref name="operation"/> (the <paramref name="step"/>-th, from 1) and returns the answer the engine must give.</summary>
    public string Apply(int step, Operation operation)
    {
        switch (operation)
        {
            case Operation.Ban(var user, var minutes):
            {
                var until = Now.AddMinutes(minutes);
                _bans[user] = (Now, until);
                _history[user].Add(History.Block(Now, minutes, until));
                foreach (var session in LiveSessions(user)) session.State = SessionState.Kicked;
                return Answers.Banned(until);
            }
            case Operation.Unban(var user):
            {
                var wasBanned = IsBanned(user);
                if (wasBanned) _history[user].Add(History.Unblock(Now));
                _bans[user] = null;
                return Answers.Unbanned(wasBanned);
            }
            case Operation.Advance(var by):
                MoveClock(by);
                return Answers.None;
            case Operation.Restart(var down):
                foreach (var session in _sessions.Where(s => s.State == SessionState.Live)) session.State = SessionState.Dropped;
                MoveClock(down);
                return Answers.None;
            case Operation.Idle:
                return Answers.None;
            case Operation.Connect(var user):
            {
                var session = new ModelSession(SessionId(step), user);
                _sessions.Add(session);
                if (IsBanned(user))
                {
                    session.State = SessionState.Refused;
                    return Answers.Refused;
                }
                // Kept within the retention: written to the new session in send order and removed from the store.
                var notBefore = Now - retention;
                var deliverable = _kept[user].Where(m => m.Sent >= notBefore).ToList();
                session.Delivered.AddRange(deliverable.Select(m => m.Text));
                _kept[user].RemoveAll(m => m.Sent >= notBefore);
                return Answers.Admitted(deliverable.Count);
            }
            case Operation.Disconnect disconnect:
            {
                if (DisconnectTarget(disconnect) is not { } id) return Answers.None;
                _sessions.Single(s => s.Id == id).State = SessionState.Closed;
                return Answers.None;
            }
            case Operation.Send(var user):
            {
                var text = MessageText(step);
                var live = LiveSessions(user);
                foreach (var session in live) session.Delivered.Add(text);
                if (live.Count > 0) return Answers.Published(delivered: 1, kept: 0, pushed: 0);
                _kept[user].Add((text, Now));
                // No push to a banned user; the message is kept either way.
                var pushed = IsBanned(user) ? 0 : 1;
                _pushes[user] += pushed;
                return Answers.Published(delivered: 0, kept: 1, pushed: pushed);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(operation), operation, "unknown operation");
        }
    }

    // Every ban whose end time the clock reaches is recorded as expired at that end time, running or not.
    private void MoveClock(TimeSpan by)
    {
        Now += by;
        for (var user = 0; user < Users; user++)
        {
            if (_bans[user] is not { } ban || Now < ban.Until) continue;
            _history[user].Add(History.Expire(ban.Until));
            _bans[user] = null;
        }
    }

    /// <summary>Everything the spec reads back from the engine after each step, as the model predicts it.</summary>
    /// <param name="historyOf">The users whose ledger is compared.</param>
    public Observation Observe(IReadOnlyCollection<int> historyOf) => new(
        Statuses: Observation.FormatStatuses(Enumerable.Range(0, Users).Select(BannedUntil)),
        BlockList: Observation.FormatBlockList(Enumerable.Range(0, Users)
            .Where(IsBanned)
            .Select(u => (UserId(u), _bans[u]!.Value.Until, (DateTimeOffset?)_bans[u]!.Value.Since))
            .OrderByDescending(b => b.Until).ThenBy(b => b.Item1, StringComparer.Ordinal)),
        Online: Observation.FormatPerUser(Enumerable.Range(0, Users).Select(u => LiveSessions(u).Count > 0 ? 1 : 0)),
        Kicked: Observation.FormatIds(_sessions.Where(s => s.State == SessionState.Kicked).Select(s => s.Id)),
        Delivered: Observation.FormatDelivered(_sessions.Select(s => (s.Id, (IReadOnlyList<string>)s.Delivered))),
        Kept: Observation.FormatPerUser(_kept.Select(k => k.Count)),
        Pushes: Observation.FormatPerUser(_pushes),
        History: Observation.FormatHistory(historyOf.Select(u => (u, (IEnumerable<string>)_history[u]))));

    /// <summary>How many ledger entries each user has; a step that changes one is followed by a read of that ledger.</summary>
    public int[] HistoryLengths() => _history.Select(h => h.Count).ToArray();

    public override string ToString() =>
        $"now {Observation.Time(Now)}; bans [{string.Join(", ", Enumerable.Range(0, Users).Select(u => _bans[u] is { } b ? $"{UserId(u)}:{Observation.Time(b.Until)}" : $"{UserId(u)}:-"))}]; " +
        $"sessions [{string.Join(", ", _sessions.Select(s => $"{s.Id}({UserId(s.User)}):{s.State}"))}]";
}

internal sealed class ModelSession(string id, int user)
{
    public string Id { get; } = id;

    public int User { get; } = user;

    public SessionState State { get; set; } = SessionState.Live;

    public List<string> Delivered { get; } = [];
}

/// <summary>The engine's answer to one operation, as text, so that model and engine compare with one equality.</summary>
internal static class Answers
{
    public const string None = "-";
    public const string Refused = "refused";

    public static string Banned(DateTimeOffset until) => $"banned until {Observation.Time(until)}";

    public static string Unbanned(bool wasBanned) => $"unbanned (was banned: {wasBanned})";

    public static string Admitted(int keptWritten) => $"admitted, {keptWritten} kept written";

    public static string Published(int delivered, int kept, int pushed) => $"delivered {delivered}, kept {kept}, pushed {pushed}";
}

/// <summary>One entry of a user's ledger (ban history), as text.</summary>
internal static class History
{
    public static string Block(DateTimeOffset at, int minutes, DateTimeOffset until) =>
        $"block {Observation.Time(at)} {minutes}m ..{Observation.Time(until)}";

    public static string Unblock(DateTimeOffset at) => $"unblock {Observation.Time(at)}";

    public static string Expire(DateTimeOffset at) => $"expire {Observation.Time(at)}";

    public static string Of(BanHistoryEntry entry) => entry.Action switch
    {
        BanAction.Block => Block(entry.Time, entry.Minutes ?? -1, entry.Until ?? DateTimeOffset.MinValue),
        BanAction.Unblock => Unblock(entry.Time),
        BanAction.Expire => Expire(entry.Time),
        _ => $"{entry.Action} {Observation.Time(entry.Time)}",
    };
}

/// <summary>One reading of the engine's whole observable state; each field is text so that a difference prints plainly.</summary>
internal sealed record Observation(string Statuses, string BlockList, string Online, string Kicked, string Delivered, string Kept,
    string Pushes, string History)
{
    public static string FormatHistory(IEnumerable<(int User, IEnumerable<string> Entries)> perUser) =>
        string.Join(" ", perUser.OrderBy(h => h.User).Select(h => $"{BanModel.UserId(h.User)}:[{string.Join(", ", h.Entries)}]"));

    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public static string FormatStatuses(IEnumerable<DateTimeOffset?> untils) =>
        string.Join(" ", untils.Select((until, u) => $"{BanModel.UserId(u)}:{(until is { } t ? Time(t) : "-")}"));

    public static string FormatBlockList(IEnumerable<(string UserId, DateTimeOffset Until, DateTimeOffset? Since)> bans) =>
        "[" + string.Join(", ", bans.Select(b => $"{b.UserId} {(b.Since is { } s ? Time(s) : "?")}..{Time(b.Until)}")) + "]";

    public static string FormatPerUser(IEnumerable<int> values) =>
        string.Join(" ", values.Select((v, u) => $"{BanModel.UserId(u)}:{v}"));

    public static string FormatIds(IEnumerable<string> ids) => "[" + string.Join(",", ids.Order(StringComparer.Ordinal)) + "]";

    public static string FormatDelivered(IEnumerable<(string SessionId, IReadOnlyList<string> Texts)> sessions) =>
        string.Join(" ", sessions.Where(s => s.Texts.Count > 0).OrderBy(s => s.SessionId, StringComparer.Ordinal)
            .Select(s => $"{s.SessionId}:[{string.Join(",", s.Texts)}]"));

    /// <summary>The fields that differ, one line each; empty when equal.</summary>
    public static string Diff(Observation expected, Observation actual)
    {
        var lines = new List<string>();
        void Compare(string name, string e, string a)
        {
            if (e != a) lines.Add($"  {name}: model {e} | engine {a}");
        }
        Compare("status", expected.Statuses, actual.Statuses);
        Compare("block list", expected.BlockList, actual.BlockList);
        Compare("online", expected.Online, actual.Online);
        Compare("kicked", expected.Kicked, actual.Kicked);
        Compare("delivered", expected.Delivered, actual.Delivered);
        Compare("kept", expected.Kept, actual.Kept);
        Compare("pushes", expected.Pushes, actual.Pushes);
        Compare("history", expected.History, actual.History);
        return string.Join(Environment.NewLine, lines);
    }
}
