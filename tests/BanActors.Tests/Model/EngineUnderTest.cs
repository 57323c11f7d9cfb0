using BanActors.Bans;
using BanActors.Messaging;
using BanActors.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace BanActors.Tests.Model;

/// <summary>
/// The real engine that a <see cref="BanModel"/> run is compared with: an <see cref="EngineHost"/> on its own SQLite
/// file and fake clock, with offline messaging wired as the server wires it, and <see cref="RecordingSession"/>s
/// standing in for the gateway's connections. <see cref="Operation.Restart"/> replaces the host with a new actor
/// system on the same file and clock.
/// </summary>
internal sealed class EngineUnderTest : IAsyncDisposable
{
    public const string App = "model";

    private static readonly OfflineMessagingOptions Messaging = new();

    private readonly TempDatabase _database = new();
    private readonly SqliteOfflineMessageStore _store;
    // One push log for the whole run: the model counts pushes across restarts.
    private readonly RecordingPushNotifier _push = new(NullLogger<RecordingPushNotifier>.Instance);
    private readonly Dictionary<string, RecordingSession> _sessions = new(StringComparer.Ordinal);
    private EngineHost _host;
    private MessageDelivery _delivery;

    private readonly Func<Func<Task>, Task> _awaitAssert;

    private EngineUnderTest(Func<Func<Task>, Task> awaitAssert)
    {
        _awaitAssert = awaitAssert;
        _store = new SqliteOfflineMessageStore(_database.Storage.ConnectionString);
        (_host, _delivery) = StartHost();
    }

    public FakeTimeProvider Clock { get; } = EngineHost.NewClock();

    /// <summary>The engine's current "process".</summary>
    public EngineHost Host => _host;

    public static TimeSpan Retention => Messaging.Retention;

    /// <summary>
    /// Short, in real time, so user actors also stop between the steps of a sequence and bans change hands between
    /// their actor's timer and the index's wake-up; the engine must answer the same either way.
    /// </summary>
    public static TimeSpan IdleTimeout => TimeSpan.FromMilliseconds(50);

    /// <param name="awaitAssert">The spec's bounded wait (TestKit's AwaitAssert) for effects that are not answered.</param>
    public static async Task<EngineUnderTest> StartAsync(Func<Func<Task>, Task> awaitAssert)
    {
        var engine = new EngineUnderTest(awaitAssert);
        await engine._store.InitializeAsync();
        return engine;
    }

    private static UserKey Key(int user) => new(App, BanModel.UserId(user));

    private (EngineHost, MessageDelivery) StartHost()
    {
        var host = EngineHost.Start(_database, Clock, options => options.IdleTimeout = IdleTimeout);
        return (host, new MessageDelivery(host.Engine, host.Engine, _store, _push, Messaging, Clock,
            NullLogger<MessageDelivery>.Instance));
    }

    /// <summary>Runs <paramref name="operation"/>; <paramref name="target"/> is the session a disconnect closes (the model picks it).</summary>
    public async Task<string> ApplyAsync(int step, Operation operation, string? target)
    {
        var engine = _host.Engine;
        switch (operation)
        {
            case Operation.Ban(var user, var minutes):
                return Answers.Banned((await engine.BanAsync(Key(user), minutes)).Until);
            case Operation.Unban(var user):
                return Answers.Unbanned((await engine.UnbanAsync(Key(user))).WasBanned);
            case Operation.Advance(var by):
                Clock.Advance(by);
                return Answers.None;
            case Operation.Restart(var down):
                await _host.DisposeAsync();
                Clock.Advance(down);
                (_host, _delivery) = StartHost();
                return Answers.None;
            case Operation.Idle:
                await _awaitAssert(async () => Assert.Equal(0, await _host.LiveUserActorsAsync()));
                return Answers.None;
            case Operation.Connect(var user):
            {
                var session = new RecordingSession(BanModel.SessionId(step));
                _sessions.Add(session.SessionId, session);
                if (!(await engine.RegisterSessionAsync(Key(user), session)).IsAccepted) return Answers.Refused;
                // What the gateway does right after "connected": write the kept messages, each leaving the store.
                var written = await _delivery.DeliverKeptAsync(Key(user),
                    (message, _) => ValueTask.FromResult(session.TryDeliver(message)));
                return Answers.Admitted(written);
            }
            case Operation.Disconnect(var user, _):
                if (target is not null) engine.UnregisterSession(Key(user), target);
                return Answers.None;
            case Operation.Send(var user):
            {
                var result = await _delivery.PublishAsync(new PrivateMessage(App, "sender", [BanModel.UserId(user)], "RC:TxtMsg",
                    BanModel.MessageText(step)));
                return Answers.Published(result.Delivered, result.Kept, result.Pushed);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(operation), operation, "unknown operation");
        }
    }

    /// <summary>Reads everything the model predicts, through the engine's own answers (each one awaited, none polled).</summary>
    /// <param name="historyOf">The users whose ledger is read too (reading the journal costs more than the rest together).</param>
    public async Task<Observation> ObserveAsync(IReadOnlyCollection<int> historyOf)
    {
        var engine = _host.Engine;
        // The block list first: the index has then sent every expiry it was due to send, ahead of what follows.
        var page = await engine.ListActiveAsync(App, 0, 50);
        var statuses = new List<DateTimeOffset?>();
        var history = await Task.WhenAll(historyOf.Select(async user =>
            (user, (IEnumerable<string>)(await engine.GetHistoryAsync(Key(user), BanRules.MaxHistoryPageSize)).Entries.Reverse()
                .Select(History.Of).ToList())));
        var online = new List<int>();
        var kept = new List<int>();
        var pushes = new List<int>();
        for (var user = 0; user < BanModel.Users; user++)
        {
            var status = await engine.GetStatusAsync(Key(user));
            statuses.Add(status.IsBanned ? status.Until ?? DateTimeOffset.MinValue : null);
            online.Add(await engine.IsOnlineAsync(Key(user)) ? 1 : 0);
            kept.Add(await _store.CountAsync(Key(user)));
            pushes.Add(_push.CountFor(Key(user)));
        }
        return new Observation(
            Statuses: Observation.FormatStatuses(statuses),
            BlockList: Observation.FormatBlockList(page.Bans.Select(b => (b.UserId, b.Until, b.Since))),
            Online: Observation.FormatPerUser(online),
            Kicked: Observation.FormatIds(_sessions.Values.Where(s => s.WasKicked).Select(s => s.SessionId)),
            Delivered: Observation.FormatDelivered(_sessions.Values.Select(s =>
                (s.SessionId, (IReadOnlyList<string>)s.Delivered.Select(m => m.Content).ToList()))),
            Kept: Observation.FormatPerUser(kept),
            Pushes: Observation.FormatPerUser(pushes),
            History: Observation.FormatHistory(history));
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _database.Dispose();
    }
}
