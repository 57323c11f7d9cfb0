using BanActors.Testing;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BanActors.Bench.Infra;
using Akka.Actor;
using Microsoft.Data.Sqlite;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Issue 15: a journal with a long ban history (N ban events in all, R of them bans still running), made through the
/// engine in this process; then a new process (this bench in child mode) starts the engine on it, and the time from
/// process start until the expiry index is ready is measured twice: starting from the index snapshot (what the set-up
/// engine saved at its graceful stop) and, with <c>banactors.expiry-index.snapshot.load = off</c>, from a full rebuild
/// of the ban tag stream as before snapshots. The history is users banned and unbanned in rounds (each an event), so
/// most of the stream is bans that ended long ago: what the rebuild reads and the snapshot skips. Before the fresh
/// snapshot is made, one start from a snapshot R events behind (the R running bans were written without a save) shows
/// what a crash or a failover costs when the last periodic save is that far back.
/// </summary>
public sealed class RestartHistory : IScenario
{
    private const string ChildHocon = "banactors.expiry-index.snapshot.enabled = off";
    // Ban/unban rounds per history user: fewer users alive at once than one round each, same events.
    private const int RoundsPerUser = 10;

    public string Name => "restart-history";

    public string Title => "6b. Restart with a long ban history: from the index snapshot vs a full rebuild";

    public async Task RunAsync(BenchOptions options, Report report)
    {
        var total = options.Count("history-n", 1_000_000, 100_000);
        var running = Math.Min(total, options.Count("history-running", 100_000, 10_000));
        var starts = Math.Max(1, options.Count("history-starts", 3, 1));
        var historyUsers = Math.Max(1, (total - running) / (2 * RoundsPerUser));
        var historyOps = total - running <= 0 ? 0 : historyUsers * RoundsPerUser * 2;
        using var dir = new TempDir(Name);
        var db = dir.File("history.db");

        var setup = Stopwatch.StartNew();
        // The engine's default idle timeout (2 min) keeps a history user's actor alive between its rounds: a shorter one
        // made every round a fresh recovery (measured: 765 events/s instead of thousands).
        await using (var host = await BenchEngine.StartAsync(db))
        {
            await host.WaitIndexReadyAsync(TimeSpan.FromSeconds(30));
            if (historyOps > 0)
            {
                var history = await Load.RunAsync(historyOps, 256, TimeSpan.FromMinutes(30), i =>
                {
                    var user = new UserKey(SignedHttp.AppKey, $"h{i % historyUsers}");
                    return (i / historyUsers) % 2 == 0 ? host.Engine.BanAsync(user, 60) : host.Engine.UnbanAsync(user);
                });
                report.Add(Row.From(Name, $"set-up: {historyUsers:N0} users banned and unbanned {RoundsPerUser} times", 256, history, "events/s"));
            }
        }
        // The running bans by an engine that saves no snapshot: the one the history's graceful stop left is then R events
        // behind, as after a crash (or a failover) that came R changes after the last save.
        await using (var host = await BenchEngine.StartAsync(db, extraHocon: ChildHocon))
        {
            await host.WaitIndexReadyAsync(TimeSpan.FromMinutes(2));
            var bans = await Load.RunAsync(running, 256, TimeSpan.FromMinutes(30),
                i => host.Engine.BanAsync(new UserKey(SignedHttp.AppKey, $"r{i}"), 600));
            report.Add(Row.From(Name, $"set-up: {running:N0} running bans (10 h)", 256, bans, "bans/s"));
            if (bans.Completed < running)
            {
                report.Skip(Name, $"only {bans.Completed} of {running} running bans were set up ({bans.FirstError})");
                return;
            }
        }
        var stale = await RunChild(db, running, load: true);
        // An engine that loads the stale snapshot and saves a fresh one as soon as it is ready (the R events it read).
        await using (var host = await BenchEngine.StartAsync(db, extraHocon: "banactors.expiry-index.snapshot.after-changes = 1"))
        {
            await host.WaitIndexReadyAsync(TimeSpan.FromMinutes(2));
            using var wait = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while ((await host.Engine.Actors.Index.Ask<BanActors.Bans.IndexLoadReport>(BanActors.Bans.GetIndexLoadReport.Instance,
                       TimeSpan.FromSeconds(30))).SnapshotsSaved == 0)
                await Task.Delay(50, wait.Token);
        }
        setup.Stop();
        var (events, snapshotBytes, snapshots) = Inspect(db);
        report.Note($"{Name}: the journal holds {events:N0} ban events ({running:N0} bans running), made in {setup.Elapsed.TotalSeconds:0} s "
            + $"({events / setup.Elapsed.TotalSeconds:N0} events/s, with three engine starts and one child start); the index snapshot the set-up left "
            + $"is {snapshotBytes / 1048576.0:0.0} MiB ({snapshotBytes / (double)Math.Max(1, running):0} B per running ban; {snapshots} row)");
        report.Figure("restart_history.events", events);
        report.Figure("restart_history.snapshot_bytes", snapshotBytes);

        var withSnapshot = new List<ChildResult>();
        for (var i = 0; i < starts; i++) withSnapshot.Add(await RunChild(db, running, load: true));
        var rebuilds = new List<ChildResult>();
        for (var i = 0; i < Math.Max(1, starts / 2); i++) rebuilds.Add(await RunChild(db, running, load: false));
        var fast = Median(withSnapshot);
        var slow = Median(rebuilds);

        AddRow(report, $"process start → index ready from the snapshot, {events:N0} events / {running:N0} running ({starts} starts)", withSnapshot,
            fast, $"snapshot at offset {fast.SnapshotOffset:N0} with {fast.SnapshotBans:N0} bans, {fast.EventsRead:N0} events read after it");
        AddRow(report, $"process start → index ready from a snapshot {running:N0} events behind (as after a crash or failover)",
            [stale], stale, $"snapshot at offset {stale.SnapshotOffset:N0} with {stale.SnapshotBans:N0} bans, {stale.EventsRead:N0} events read after it");
        AddRow(report, $"process start → index ready by a full rebuild (snapshot load off), same journal ({rebuilds.Count} starts)", rebuilds,
            slow, $"{slow.EventsRead:N0} events read, {slow.EventsRead / Math.Max(0.001, (slow.ReadyMs - slow.EngineMs) / 1000):N0} events/s "
            + "(index load time after the engine answered)");
        report.Figure("restart_history.ready_ms", fast.ReadyMs);
        report.Figure("restart_history.engine_ms", fast.EngineMs);
        report.Figure("restart_history.tail_events", fast.EventsRead);
        report.Figure("restart_history.stale_snapshot.ready_ms", stale.ReadyMs);
        report.Figure("restart_history.stale_snapshot.tail_events", stale.EventsRead);
        report.Figure("restart_history.no_snapshot.ready_ms", slow.ReadyMs);
        report.Figure("restart_history.no_snapshot.engine_ms", slow.EngineMs);
        report.Figure("restart_history.no_snapshot.events_read", slow.EventsRead);
        report.Figure("restart_history.running", running);
    }

    private static ChildResult Median(List<ChildResult> runs) => runs.OrderBy(r => r.ReadyMs).ElementAt(runs.Count / 2);

    private void AddRow(Report report, string what, List<ChildResult> runs, ChildResult median, string note)
    {
        var latencies = new Latencies(runs.Count);
        foreach (var r in runs) latencies.AddMs(r.ReadyMs);
        report.Add(new Row(Name, what, runs.Count, null, null, "", latencies.Summarize(), runs.Count(r => r.Running != r.Expected), null,
            $"median start: engine answering after {median.EngineMs:0} ms, index ready after {median.ReadyMs:0} ms; {note}; "
            + $"running bans listed {median.Running:N0}"));
    }

    private static (long Events, long SnapshotBytes, long Snapshots) Inspect(string db)
    {
        using var connection = new SqliteConnection($"Data Source={db}");
        connection.Open();
        long Scalar(string sql)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
        var id = BanActors.Bans.IndexSnapshotSettings.DefaultPersistenceId;
        return (Scalar("SELECT COUNT(*) FROM event_journal"),
            Scalar($"SELECT COALESCE(MAX(length(payload)), 0) FROM snapshot WHERE persistence_id = '{id}'"),
            Scalar($"SELECT COUNT(*) FROM snapshot WHERE persistence_id = '{id}'"));
    }

    private sealed record ChildResult(double EngineMs, double ReadyMs, int Running, int Expected, long? SnapshotOffset,
        int SnapshotBans, long EventsRead);

    private static async Task<ChildResult> RunChild(string db, int expected, bool load)
    {
        var psi = ChildProcess.StartInfo("restart-history", db, expected.ToString(CultureInfo.InvariantCulture),
            ChildHocon + (load ? "" : "\nbanactors.expiry-index.snapshot.load = off"));
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start the child process");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("the restart-history child did not finish in 5 minutes");
        }
        var json = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'))
            ?? throw new InvalidOperationException("restart-history child printed no result: " + await stderr);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        var offset = root.GetProperty("snapshotOffset");
        return new ChildResult(root.GetProperty("engineMs").GetDouble(), root.GetProperty("readyMs").GetDouble(),
            root.GetProperty("running").GetInt32(), expected, offset.ValueKind == JsonValueKind.Null ? null : offset.GetInt64(),
            root.GetProperty("snapshotBans").GetInt32(), root.GetProperty("eventsRead").GetInt64());
    }
}
