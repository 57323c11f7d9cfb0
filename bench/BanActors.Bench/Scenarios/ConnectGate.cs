using BanActors.Testing;
using BanActors.Bans;
using BanActors.Bench.Infra;
using BanActors.Sessions;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Scenario 8: "may this user connect" checks per second through the facade: RegisterSessionAsync with a dummy
/// session (answered after the user's actor said banned or not), then UnregisterSession when admitted.
/// Users whose actors are alive ("warm", the common case for a user who reconnects) and users never seen by
/// this process ("cold": actor created and recovered from the journal first).
/// </summary>
public sealed class ConnectGate : IScenario
{
    public string Name => "connect-gate";

    public string Title => "8. Connect gate";

    private sealed class DummySession(string id) : IBanSession
    {
        public string SessionId { get; } = id;
        public void Kick(int code, string reason) { }
    }

    public async Task RunAsync(BenchOptions options, Report report)
    {
        using var dir = new TempDir(Name);
        await using var host = await BenchEngine.StartAsync(dir.File("bans.db"));
        await host.WaitIndexReadyAsync(TimeSpan.FromSeconds(30));
        var engine = host.Engine;
        const string app = "bench";
        var users = Math.Min(options.N, 2_000);
        var banned = await Load.RunAsync(users, 64, options.MaxStep, i => engine.BanAsync(new UserKey(app, $"banned-{i}"), 60));
        if (banned.Failures > 0) report.Note($"connect-gate: {banned.Failures} set-up bans failed");
        await Load.RunAsync(users, 64, options.MaxStep, i => engine.GetStatusAsync(new UserKey(app, $"free-{i}")));

        async Task Check(string userId, int i, bool expectAccepted)
        {
            var user = new UserKey(app, userId);
            var id = $"s{i}";
            var admission = await engine.RegisterSessionAsync(user, new DummySession(id));
            if (admission.IsAccepted != expectAccepted)
                throw new InvalidOperationException($"{user} was {(admission.IsAccepted ? "admitted" : "refused")}");
            if (admission.IsAccepted) engine.UnregisterSession(user, id);
        }

        // Warm-up of the path itself (JIT), not reported.
        await Load.RunAsync(users, 64, options.MaxStep, i => Check($"free-{i % users}", i, true));

        var n = options.N * 2;
        foreach (var c in new[] { 1, 64, 256 })
        {
            var free = await Load.RunAsync(n, c, options.MaxStep, i => Check($"free-{i % users}", i, true));
            report.Add(Row.From("connect-gate", "not banned, warm actor (admit + unregister)", c, free, "checks/s"));
            report.Figure($"gate.free.c{c}", free.PerSecond);
            var ban = await Load.RunAsync(n, c, options.MaxStep, i => Check($"banned-{i % users}", i, false));
            report.Add(Row.From("connect-gate", "banned, warm actor (refused)", c, ban, "checks/s"));
            report.Figure($"gate.banned.c{c}", ban.PerSecond);
        }
        var coldN = Math.Min(options.N, 5_000);
        var cold = await Load.RunAsync(coldN, 64, options.MaxStep, i => Check($"never-seen-{i}", i, true));
        report.Add(Row.From("connect-gate", "not banned, cold (actor recovered from journal)", 64, cold, "checks/s"));
        report.Figure("gate.cold.c64", cold.PerSecond);
    }
}
