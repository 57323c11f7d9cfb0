using System.Diagnostics;
using Akka.Cluster;
using BanActors.Bans;
using BanActors.Bench.Infra;
using BanActors.Sessions;
using BanActors.Testing;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Issue 5's cluster, measured: a throwaway PostgreSQL 15 and three cluster nodes (actor systems on 127.0.0.1) in
/// this process, the engine as <c>AddBanEngineCluster</c> runs it (the tests' <see cref="ClusterNode"/>) on the PostgreSQL journal. Node 1
/// (the shared cluster's seed) is the oldest member, so it hosts the expiry index singleton and the shard coordinator.
/// (a) durable bans/s of distinct users through node 1's facade, then spread over the three facades;
/// (b) cross-node kick: sessions registered on node 3, bans through node 1, ban acknowledged → Kick seen;
/// (0) first, the expiry index's cost with many running bans (<see cref="ClusterIndexCost"/>);
/// (c) node loss: with N running bans, node 1 is terminated without leaving; time until a survivor's proxy answers
///     IsIndexReady again and the block list lists all N.
/// </summary>
public sealed class ClusterScenario : IScenario
{
    public string Name => "cluster";

    public string Title => "9. Cluster: 3 nodes in process on PostgreSQL (bans/s, cross-node kick, node loss)";

    private sealed class RecordingSession(string id) : IBanSession
    {
        public long KickedAt;
        public readonly TaskCompletionSource Kicked = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string SessionId => id;

        public void Kick(int code, string reason)
        {
            Interlocked.CompareExchange(ref KickedAt, Stopwatch.GetTimestamp(), 0);
            Kicked.TrySetResult();
        }
    }

    public async Task RunAsync(BenchOptions options, Report report)
    {
        var (pg, reason) = await ThrowawayPostgres.TryStartAsync("banactors-bench-pg-");
        if (pg is null)
        {
            report.Skip(Name, "PostgreSQL could not start: " + reason);
            return;
        }
        await using var _ = pg;
        var connectionString = await pg.CreateDatabaseAsync("bench_cluster");
        var heartbeatPause = TimeSpan.FromSeconds(options.Count("cluster-heartbeat-pause", 15, 15));
        var stableAfter = TimeSpan.FromSeconds(options.Count("cluster-stable-after", 20, 20));
        var sw = Stopwatch.StartNew();
        void Step(string what) => Console.WriteLine($"   [{sw.Elapsed.TotalSeconds,6:0.0} s] {what}");

        // First, before the nodes start, so that the heap figure is the index's alone.
        var indexN = options.Count("cluster-index-n", 100_000, 10_000);
        if (indexN > 0)
        {
            try
            {
                await ClusterIndexCost.RunAsync(pg, indexN, report, Step);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                report.Skip("cluster index cost", $"failed: {ex.GetType().Name}: {ex.Message}");
            }
        }
        sw.Restart();

        var nodes = new List<ClusterNode>();
        try
        {
            var (other1, seed, other2) = await ThreeNodeCluster.StartAsync(
                (name, port, seedPort) => ClusterNode.StartAsync(name, port, seedPort, connectionString, TimeProvider.System,
                    heartbeatPause: heartbeatPause, stableAfter: stableAfter, extraHocon: BenchEngine.Hocon),
                nodes.Add, Step, TimeSpan.FromSeconds(120));
            // The seed is the oldest member, so it is the node that the node-loss step terminates.
            var all = new[] { seed, other1, other2 };
            report.Figure("cluster.start_ready_ms", sw.Elapsed.TotalMilliseconds);
            report.Note($"cluster: PostgreSQL ({ThrowawayPostgres.Settings}) and 3 nodes in the bench process on 127.0.0.1, "
                + $"acceptable-heartbeat-pause {heartbeatPause.TotalSeconds:0} s, split-brain stable-after {stableAfter.TotalSeconds:0} s "
                + $"(flags --cluster-heartbeat-pause, --cluster-stable-after); cluster up, notifications gossiped and index ready "
                + $"{sw.Elapsed.TotalSeconds:0.0} s after the first node started");
            await Throughput(options, report, all);
            await Kicks(options, report, all);
            await NodeLoss(options, report, all, stableAfter, Step);
        }
        finally
        {
            await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask()));
        }
    }

    /// <summary>
    /// Every running ban of <paramref name="app"/> as the block list pages it: 1,000 a page, the HTTP API's largest
    /// page (a larger page would be over Akka.Remote's frame size when the singleton is on another node).
    /// </summary>
    private static async Task<int> CountActiveAsync(ClusterNode node, string app)
    {
        const int size = 1_000;
        var count = 0;
        for (var page = 1; page <= 10_000; page++)
        {
            var got = (await node.Engine.ListActiveAsync(app, page, size).ConfigureAwait(false)).Bans.Count;
            count += got;
            if (got < size) break;
        }
        return count;
    }

    private static async Task Throughput(BenchOptions options, Report report, ClusterNode[] all)
    {
        var n = options.Count("cluster-n", 5_000, 1_000);
        var node1 = all[0].Engine;
        // Warm-up (JIT, connection pools, shard allocation on every node): not reported.
        await Load.RunAsync(Math.Min(n, 1_000), 64, options.MaxStep, i => all[i % 3].Engine.BanAsync(new UserKey("warm", $"w{i}"), 60));
        foreach (var c in options.Integers("cluster-ramp", [16, 256], [16, 256]))
        {
            var one = await Load.RunAsync(n, c, options.MaxStep, i => node1.BanAsync(new UserKey("bench", $"n1-c{c}-{i}"), 60));
            report.Add(Row.From("cluster", "durable first bans through node 1's facade", c, one, "bans/s",
                note: "CPU µs/op is the whole process: all three nodes and the load"));
            report.Figure($"cluster.node1.c{c}", one.PerSecond);
            report.Figure($"cluster.node1.c{c}.p99_ms", one.Latency.P99Ms);
            report.Figure($"cluster.node1.c{c}.failures", one.Failures);
            var spread = await Load.RunAsync(n, c, options.MaxStep, i => all[i % 3].Engine.BanAsync(new UserKey("bench", $"sp-c{c}-{i}"), 60));
            report.Add(Row.From("cluster", "durable first bans spread over the 3 facades", c, spread, "bans/s"));
            report.Figure($"cluster.spread.c{c}", spread.PerSecond);
            report.Figure($"cluster.spread.c{c}.p99_ms", spread.Latency.P99Ms);
            report.Figure($"cluster.spread.c{c}.failures", spread.Failures);
        }
    }

    private static async Task Kicks(BenchOptions options, Report report, ClusterNode[] all)
    {
        var k = options.Count("cluster-kick-n", 1_000, 300);
        var (node1, node3) = (all[0].Engine, all[2].Engine);
        foreach (var inFlight in new[] { 1, 16 })
        {
            var sessions = new RecordingSession[k];
            var users = Enumerable.Range(0, k).Select(i => new UserKey("kick", $"c{inFlight}-{i}")).ToArray();
            var register = await Load.RunAsync(k, 16, options.MaxStep, async i =>
            {
                var s = new RecordingSession($"s{inFlight}-{i}");
                var admission = await node3.RegisterSessionAsync(users[i], s);
                if (!admission.IsAccepted) throw new InvalidOperationException($"session refused: {admission}");
                sessions[i] = s;
            });
            if (register.Failures > 0)
            {
                report.Skip($"cluster kick ({inFlight} in flight)", $"{register.Failures} of {k} sessions not registered on node 3 ({register.FirstError})");
                continue;
            }
            var ackToKick = new Latencies(k);
            var sendToKick = new Latencies(k);
            var missing = 0;
            var kickBeforeAck = 0;
            var bans = await Load.RunAsync(k, inFlight, options.MaxStep, async i =>
            {
                var sent = Stopwatch.GetTimestamp();
                await node1.BanAsync(users[i], 10);
                var acked = Stopwatch.GetTimestamp();
                var s = sessions[i];
                if (await Task.WhenAny(s.Kicked.Task, Task.Delay(TimeSpan.FromSeconds(10))) != s.Kicked.Task)
                {
                    Interlocked.Increment(ref missing);
                    return;
                }
                var kicked = Volatile.Read(ref s.KickedAt);
                var d = kicked - acked;
                if (d < 0) Interlocked.Increment(ref kickBeforeAck);
                ackToKick.Add(d);
                sendToKick.Add(kicked - sent);
            });
            var a = ackToKick.Summarize();
            var b = sendToKick.Summarize();
            report.Add(new Row("cluster", $"cross-node kick: {k:N0} sessions on node 3, bans through node 1 ({inFlight} in flight): ban acknowledged → Kick on node 3",
                ackToKick.Count, inFlight, null, "", a, missing + bans.Failures, null,
                $"{kickBeforeAck} kicks came before the acknowledgement reached the caller (counted as negative); ban sent → kick p50 {b.P50Ms:0.##} ms, p99 {b.P99Ms:0.##} ms, max {b.MaxMs:0.#} ms; "
                + $"bans {bans.PerSecond:N0}/s (p99 {bans.Latency.P99Ms:0.#} ms); not kicked within 10 s: {missing}"
                + (bans.FirstError is null ? "" : "; first error: " + bans.FirstError)));
            report.Figure($"cluster.kick.c{inFlight}.p50_ms", a.P50Ms);
            report.Figure($"cluster.kick.c{inFlight}.p99_ms", a.P99Ms);
            report.Figure($"cluster.kick.c{inFlight}.send_p99_ms", b.P99Ms);
            report.Figure($"cluster.kick.c{inFlight}.missing", missing + bans.Failures);
        }
    }

    private static async Task NodeLoss(BenchOptions options, Report report, ClusterNode[] all, TimeSpan stableAfter, Action<string> step)
    {
        var n = options.Count("cluster-loss-n", 10_000, 2_000);
        const string app = "loss";
        var (node1, node2, node3) = (all[0], all[1], all[2]);
        var oldest = node2.Cluster.State.Members.Where(m => m.Status == MemberStatus.Up).OrderBy(m => m, Member.AgeOrdering).First();
        if (oldest.Address != node1.Cluster.SelfAddress)
        {
            report.Skip("cluster node loss", $"node 1 is not the oldest member ({oldest.Address}), so the index singleton is not where the step needs it");
            return;
        }
        var placed = await Load.RunAsync(n, 256, TimeSpan.FromSeconds(Math.Max(120, options.MaxStep.TotalSeconds)),
            i => all[i % 3].Engine.BanAsync(new UserKey(app, $"u{i}"), 60 + i % 600));
        report.Add(Row.From("cluster", $"node loss set-up: {n:N0} running bans spread over the 3 facades", 256, placed, "bans/s"));
        if (placed.Failures > 0 || placed.TimedOut)
        {
            report.Skip("cluster node loss", $"only {placed.Completed:N0} of {n:N0} bans were placed ({placed.FirstError})");
            return;
        }
        var acknowledged = placed.Completed;
        var listedBefore = await CountActiveAsync(node2, app);
        for (var tries = 0; listedBefore < acknowledged && tries < 100; tries++)
        {
            await Task.Delay(100);
            listedBefore = await CountActiveAsync(node2, app);
        }
        var totalRunning = 0;
        foreach (var a in new[] { "bench", "warm", "kick", app }) totalRunning += await CountActiveAsync(node2, a);
        step($"{acknowledged:N0} bans acknowledged and listed ({totalRunning:N0} running in all apps); terminating node 1 (oldest: index singleton, coordinator) without leaving");

        var bound = TimeSpan.FromSeconds(options.Count("cluster-loss-seconds", 180, 180));
        var t0 = Stopwatch.GetTimestamp();
        double Ms() => Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        await node1.CrashAsync();
        var terminatedMs = Ms();
        double? unreachableMs = null, removedMs = null, readyMs = null, listedMs = null, firstAnswerMs = null;
        var listed = 0;
        var firstFalse = 0;
        while (Stopwatch.GetElapsedTime(t0) < bound)
        {
            var state = node2.Cluster.State;
            if (unreachableMs is null && state.Unreachable.Any(m => m.Address == node1.Cluster.SelfAddress)) unreachableMs = Ms();
            if (removedMs is null && state.Members.All(m => m.Address != node1.Cluster.SelfAddress)
                && node3.Cluster.State.Members.All(m => m.Address != node1.Cluster.SelfAddress))
            {
                removedMs = Ms();
                unreachableMs ??= removedMs;
            }
            if (readyMs is null)
            {
                var ready = await node2.IsIndexReadyAsync(TimeSpan.FromMilliseconds(500));
                if (ready && removedMs is not null) readyMs = Ms();
                else if (!ready && removedMs is not null) firstFalse++;
            }
            if (readyMs is not null)
            {
                try
                {
                    listed = await CountActiveAsync(node3, app);
                    firstAnswerMs ??= Ms();
                }
                catch (Exception ex) when (ex is TimeoutException or Akka.Actor.AskTimeoutException or BanEngineUnavailableException)
                {
                }
                if (listed >= acknowledged)
                {
                    listedMs = Ms();
                    break;
                }
            }
            await Task.Delay(50);
        }
        // "Banned now?" through a survivor for a sample of the running bans, once the index is back.
        var stillBanned = 0;
        var sample = Math.Min(200, acknowledged);
        for (var i = 0; i < sample; i++)
            if ((await node3.Engine.GetStatusAsync(new UserKey(app, $"u{i * (acknowledged / sample)}"))).IsBanned) stillBanned++;

        var what = $"node loss: {acknowledged:N0} running bans (of {totalRunning:N0} in all apps), oldest node terminated without leaving";
        string F(double? ms) => ms is { } v ? $"{v / 1000:0.0} s" : "not within the bound";
        report.Add(new Row("cluster", what + ": → block list on a survivor lists all of them", listed, null, null, "",
            null, listedMs is null ? acknowledged - listed : 0, null,
            $"after the termination: unreachable on node 2 {F(unreachableMs)}, downed and removed {F(removedMs)}, index singleton ready through "
            + $"node 2's proxy {F(readyMs)}, block list complete on node 3 {F(listedMs)} ({listed:N0} of {acknowledged:N0} listed); "
            + $"of that, the split-brain resolver waits stable-after ({stableAfter.TotalSeconds:0} s) before downing, and the singleton "
            + "hand-over waits a removal margin (under the split-brain resolver Akka uses stable-after again) before the index starts "
            + $"and rebuilds; Terminate() itself took {terminatedMs:0} ms; "
            + $"{stillBanned} of {sample} sampled users answer banned on node 3 afterwards; bound {bound.TotalSeconds:0} s"));
        report.Figure("cluster.loss.n", acknowledged);
        report.Figure("cluster.loss.total_running", totalRunning);
        if (unreachableMs is { } u) report.Figure("cluster.loss.unreachable_ms", u);
        if (removedMs is { } r) report.Figure("cluster.loss.removed_ms", r);
        if (readyMs is { } rd) report.Figure("cluster.loss.index_ready_ms", rd);
        if (listedMs is { } l) report.Figure("cluster.loss.listed_ms", l);
        report.Figure("cluster.loss.listed", listed);
        report.Figure("cluster.loss.sample_banned", stillBanned);
        report.Figure("cluster.loss.sample", sample);
    }
}
