using BanActors.Testing;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BanActors.Bans;
using BanActors.Bench.Infra;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Scenario 6: a journal holding N running bans (made through the engine in this process), then a new process
/// (this bench in child mode) starts the engine on it. Measured in the child: time from process start until
/// the engine answers and until the expiry index is ready (every running ban loaded and queued for its timer),
/// then resident memory (RSS) and the GC heap after a full, compacting collection. The same child on an empty
/// journal gives the baseline; bytes per running ban = (with N − empty) / N.
/// </summary>
public sealed class Restart : IScenario
{
    public string Name => "restart";

    public string Title => "6. Restart with running bans in the journal";

    public async Task RunAsync(BenchOptions options, Report report)
    {
        var n = options.RestartN;
        using var dir = new TempDir(Name);
        var full = dir.File("full.db");
        var empty = dir.File("empty.db");

        await using (var host = await BenchEngine.StartAsync(empty)) await host.WaitIndexReadyAsync(TimeSpan.FromSeconds(30));

        long heapLive, rssLive, heapBase, rssBase;
        await using (var host = await BenchEngine.StartAsync(full))
        {
            await host.WaitIndexReadyAsync(TimeSpan.FromSeconds(30));
            (heapBase, rssBase) = ChildProcess.MeasureMemory();
            var seed = await Load.RunAsync(n, 256, TimeSpan.FromSeconds(Math.Max(300, n / 100)),
                i => host.Engine.BanAsync(new UserKey(SignedHttp.AppKey, $"r{i}"), 600));
            report.Add(Row.From("restart", $"set-up: {n:N0} first bans (60 min ... 10 h running)", 256, seed, "bans/s"));
            if (seed.Completed < n)
            {
                report.Skip("restart", $"only {seed.Completed} of {n} set-up bans succeeded ({seed.FirstError})");
                return;
            }
            (heapLive, rssLive) = ChildProcess.MeasureMemory();
        }
        report.Figure("restart.live_actors.heap_bytes_per_ban", (heapLive - heapBase) / (double)n);
        report.Figure("restart.live_actors.rss_bytes_per_ban", (rssLive - rssBase) / (double)n);
        report.Note($"restart: with {n:N0} user actors alive in the process that made the bans (before they passivate), "
            + $"GC heap grew {(heapLive - heapBase) / (double)n:N0} B and RSS {(rssLive - rssBase) / (double)n:N0} B per ban");

        var baseline = await RunChild(empty, 0);
        var runs = new List<ChildResult>();
        for (var attempt = 0; attempt < 3; attempt++) runs.Add(await RunChild(full, n));
        var median = runs.OrderBy(r => r.ReadyMs).ElementAt(runs.Count / 2);

        var readyLat = new Latencies(runs.Count);
        foreach (var r in runs) readyLat.AddMs(r.ReadyMs);
        report.Add(new Row("restart", $"process start → index ready, {n:N0} running bans (3 starts)", n, null, null, "",
            readyLat.Summarize(), runs.Count(r => r.Running != n), null,
            $"median start: engine answering after {median.EngineMs:0} ms, index ready after {median.ReadyMs:0} ms "
            + $"(load of the index {median.ReadyMs - median.EngineMs:0} ms); empty journal: ready after {baseline.ReadyMs:0} ms; "
            + $"running bans listed: {median.Running:N0}"));
        var heapPerBan = (median.HeapBytes - baseline.HeapBytes) / (double)n;
        var rssPerBan = (median.RssBytes - baseline.RssBytes) / (double)n;
        report.Add(new Row("restart", $"memory per running ban after restart ({n:N0})", n, null, heapPerBan, "B GC heap/ban",
            null, 0, null,
            $"RSS {rssPerBan:N0} B/ban (RSS {median.RssBytes / 1048576.0:0.0} MiB vs {baseline.RssBytes / 1048576.0:0.0} MiB empty; "
            + $"GC heap {median.HeapBytes / 1048576.0:0.0} MiB vs {baseline.HeapBytes / 1048576.0:0.0} MiB, after a full compacting GC)"));
        report.Figure("restart.ready_ms", median.ReadyMs);
        report.Figure("restart.engine_ms", median.EngineMs);
        report.Figure("restart.empty_ready_ms", baseline.ReadyMs);
        report.Figure("restart.heap_bytes_per_ban", heapPerBan);
        report.Figure("restart.rss_bytes_per_ban", rssPerBan);

        await RealServer(full, n, report);
    }

    /// <summary>
    /// The real server on the same journal: from starting the process to /healthz answering 200, and to a signed
    /// /user/block.query.json answering with the running bans (the block list is served by the expiry index, so
    /// it answers once the index has loaded).
    /// </summary>
    private static async Task RealServer(string db, int n, Report report)
    {
        var port = RedisPeer.FreePort();
        var workDir = Path.GetDirectoryName(db)!;
        var psi = HttpBans.RealServer(workDir, port);
        if (psi is null)
        {
            report.Skip("restart (real server)", "src/BanActors.Server is not built next to the bench");
            return;
        }
        psi.ArgumentList.Add($"--BanActors:Storage:ConnectionString=Data Source={db}");
        using var server = ServerProcess.Start(psi, port);
        var health = await server.WaitAnsweringAsync("/healthz", TimeSpan.FromSeconds(120));
        if (health is null)
        {
            report.Skip("restart (real server)", "the server did not answer: " + server.RecentOutput);
            return;
        }
        using var client = new SignedHttp(server.Address, 4);
        TimeSpan? listed = null;
        var count = -1;
        string? lastError = null;
        while (server.SinceStart.Elapsed < TimeSpan.FromSeconds(120))
        {
            try
            {
                var body = await client.PostForBodyAsync("/user/block/query.json", []);
                using var doc = JsonDocument.Parse(body);
                count = doc.RootElement.GetProperty("users").GetArrayLength();
                if (count >= Math.Min(n, 1_000))
                {
                    listed = server.SinceStart.Elapsed;
                    break;
                }
            }
            catch (HttpRequestException ex)
            {
                lastError = ex.Message;
            }
            await Task.Delay(20);
        }
        var rss = server.WorkingSet();
        report.Add(new Row("restart", $"real server process start → /healthz 200 and → block list with the running bans ({n:N0})", n, null,
            null, "", null, listed is null ? 1 : 0, null,
            $"/healthz after {health.Value.TotalMilliseconds:0} ms; /user/block/query.json listing {Math.Max(count, 0):N0} of the running bans after "
            + (listed is { } l ? $"{l.TotalMilliseconds:0} ms" : $"— not within 120 s ({lastError})")
            + $"; server RSS then {rss / 1048576.0:0} MiB (no forced GC)"));
        if (listed is { } ready) report.Figure("restart.server_listed_ms", ready.TotalMilliseconds);
        report.Figure("restart.server_healthz_ms", health.Value.TotalMilliseconds);
    }

    private sealed record ChildResult(double EngineMs, double ReadyMs, long HeapBytes, long RssBytes, int Running);

    private static async Task<ChildResult> RunChild(string db, int expected)
    {
        var psi = ChildProcess.StartInfo("restart", db, expected.ToString(CultureInfo.InvariantCulture));
        var spawned = Stopwatch.GetTimestamp();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start the child process");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("the restart child did not finish in 3 minutes");
        }
        var lines = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var json = lines.LastOrDefault(l => l.StartsWith('{'))
            ?? throw new InvalidOperationException("restart child printed no result: " + await stderr);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        _ = spawned;
        return new ChildResult(root.GetProperty("engineMs").GetDouble(), root.GetProperty("readyMs").GetDouble(),
            root.GetProperty("heapBytes").GetInt64(), root.GetProperty("rssBytes").GetInt64(), root.GetProperty("running").GetInt32());
    }
}
