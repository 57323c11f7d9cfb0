using System.Globalization;
using BanActors.Bench.Infra;

namespace BanActors.Bench;

/// <summary>The headline table: each target of issue 6 next to the measured figure, its ceiling and Redis.</summary>
public static class Summary
{
    public static void Fill(Report r)
    {
        string N(double v) => v.ToString("N0", CultureInfo.InvariantCulture);
        string Ratio(double? ours, double? other, string what) =>
            ours is { } o && other is { } t && t > 0 ? string.Create(CultureInfo.InvariantCulture, $"{o / t:0.###}× {what}") : "–";
        string Met(bool ok) => ok ? "yes" : "**no**";

        var sqliteFull = r.Get("sqlite.full.tx100");
        var sqliteNormal = r.Get("sqlite.normal.tx100");
        var redisBest = r.Get("redis.best");
        // Redis at the same number of requests in flight as our best level (falls back to its best).
        double? RedisAt(string ourPrefix, double ours)
        {
            var level = r.Figures.Where(kv => kv.Key.StartsWith(ourPrefix, StringComparison.Ordinal) && kv.Value == ours)
                .Select(kv => kv.Key[ourPrefix.Length..]).FirstOrDefault();
            return level is not null && r.Get($"redis.everysec.{level}") is { } same ? same : redisBest;
        }
        string RedisLevel(string ourPrefix, double ours)
        {
            var level = r.Figures.Where(kv => kv.Key.StartsWith(ourPrefix, StringComparison.Ordinal) && kv.Value == ours)
                .Select(kv => kv.Key[ourPrefix.Length..]).FirstOrDefault();
            return level is not null && r.Get($"redis.everysec.{level}") is not null ? $"Redis SET EX, same in-flight ({level[1..]})" : "Redis SET EX, its best";
        }
        if (r.Get("inproc.reban.best") is { } reban)
        {
            r.Headlines.Add(new Headline("durable re-bans/s in process (best in-flight level)", N(reban), "≥ 20,000",
                Met(reban >= 20_000),
                Ratio(reban, sqliteFull, "raw SQLite FULL/100 per tx") + "; " + Ratio(reban, sqliteNormal, "NORMAL/100"),
                Ratio(reban, RedisAt("inproc.reban.", reban), RedisLevel("inproc.reban.", reban))));
        }
        if (r.Get("inproc.first.best") is { } first)
        {
            r.Headlines.Add(new Headline("durable first bans/s in process (new users)", N(first), "≥ 20,000",
                Met(first >= 20_000), Ratio(first, sqliteFull, "raw SQLite FULL/100 per tx"),
                Ratio(first, RedisAt("inproc.first.", first), RedisLevel("inproc.first.", first))));
        }
        var httpBest = Best(r, "http.single.");
        var kestrel = Best(r, "ceiling-kestrel.single.");
        if (httpBest is { } http)
        {
            r.Headlines.Add(new Headline("signed single-user ban requests/s over HTTP, first bans (new users)", N(http), "≥ 7,000", Met(http >= 7_000),
                Ratio(http, kestrel, "bare signed Kestrel"), Ratio(http, r.Get("redis.everysec.c256") ?? redisBest, "Redis SET EX at 256 in flight")));
        }
        if (Best(r, "http.reban.") is { } httpRe)
        {
            r.Headlines.Add(new Headline("signed single-user ban requests/s over HTTP, re-bans (live actors)", N(httpRe), "≥ 7,000", Met(httpRe >= 7_000),
                Ratio(httpRe, kestrel, "bare signed Kestrel"), Ratio(httpRe, r.Get("redis.everysec.c256") ?? redisBest, "Redis SET EX at 256 in flight")));
        }
        else if (kestrel is { } k)
        {
            r.Headlines.Add(new Headline("bare signed Kestrel (ceiling only; real server not run)", N(k), "(ceiling)", null, null, null));
        }
        if (Best(r, "http.twenty.") is { } twenty)
        {
            r.Headlines.Add(new Headline("HTTP 20 users/request: bans/s", N(twenty * 20), "–", null,
                Ratio(twenty, Best(r, "ceiling-kestrel.twenty."), "bare Kestrel (requests)"),
                Ratio(twenty * 20, r.Get("redis.everysec.c256") ?? redisBest, "Redis SET EX at 256 in flight")));
        }
        foreach (var key in r.Figures.Keys.Where(k => k.StartsWith("unban.n", StringComparison.Ordinal) && k.EndsWith(".p99_ms", StringComparison.Ordinal)).ToList())
        {
            var n = key["unban.n".Length..^".p99_ms".Length];
            var p99 = r.Figures[key];
            var redis = r.Get($"redis.expiry.n{n}.p99_ms");
            var still = r.Get($"unban.n{n}.still_banned") ?? 0;
            var missing = r.Get($"unban.n{n}.missing") ?? 0;
            var errors = r.Get($"unban.n{n}.errors") ?? 0;
            r.Headlines.Add(new Headline($"unban lag p99, {N(double.Parse(n, CultureInfo.InvariantCulture))} bans ending together",
                $"{p99:N0} ms (p50 {r.Get($"unban.n{n}.p50_ms"):N0}, max {r.Get($"unban.n{n}.max_ms"):N0}); still banned after end: {still:0}"
                + (missing > 0 ? $"; **{missing:N0} not unbanned within the bound**" : "")
                + (errors > 0 ? $"; **{errors:N0} Akka errors (failed persists)**" : ""),
                n == "10000" ? "≤ 1,000 ms" : "(report)",
                n == "10000" ? Met(p99 <= 1_000 && still == 0 && missing == 0) : null, null,
                redis is { } rp ? string.Create(CultureInfo.InvariantCulture, $"Redis expired-notification p99 {rp:N0} ms ({p99 / Math.Max(rp, 1):0.#}×)") : null));
        }
        if (r.Get("restart.ready_ms") is { } ready)
        {
            r.Headlines.Add(new Headline("restart with running bans: process start → index ready", $"{ready:N0} ms", "≤ 10,000 ms",
                Met(ready <= 10_000), $"empty journal {r.Get("restart.empty_ready_ms"):N0} ms", null));
        }
        if (r.Get("restart_history.ready_ms") is { } fromSnapshot)
        {
            r.Headlines.Add(new Headline(
                $"restart with {N(r.Get("restart_history.events") ?? 0)} ban events, {N(r.Get("restart_history.running") ?? 0)} running: "
                + "process start → index ready, from the index snapshot",
                $"{fromSnapshot:N0} ms ({N(r.Get("restart_history.tail_events") ?? 0)} events after the snapshot)", "≤ 5,000 ms",
                Met(fromSnapshot <= 5_000),
                r.Get("restart_history.no_snapshot.ready_ms") is { } full ? $"full rebuild {full:N0} ms" : null, null));
        }
        if (r.Get("restart.server_listed_ms") is { } listed)
        {
            r.Headlines.Add(new Headline("restart, real server: process start → block list answers with the running bans",
                $"{listed:N0} ms (/healthz {r.Get("restart.server_healthz_ms"):N0} ms)", "≤ 10,000 ms", Met(listed <= 10_000), null, null));
        }
        if (r.Get("restart.heap_bytes_per_ban") is { } heap)
        {
            var rss = r.Get("restart.rss_bytes_per_ban") ?? double.NaN;
            r.Headlines.Add(new Headline("memory per running ban (after restart)", $"{heap:N0} B GC heap, {rss:N0} B RSS", "≤ 2,048 B",
                Met(Math.Max(heap, rss) <= 2_048), null, null));
        }
        if (r.Get("kick.p99_ms") is { } kick)
        {
            r.Headlines.Add(new Headline("kick: HTTP 200 → client sees the close, p99", $"{kick:0.#} ms (p50 {r.Get("kick.p50_ms"):0.#})",
                "≤ 20 ms", Met(kick <= 20), null, null));
        }
        if (Best(r, "gate.free.") is { } gate)
        {
            r.Headlines.Add(new Headline("connect gate checks/s (warm, not banned / banned)",
                $"{N(gate)} / {N(Best(r, "gate.banned.") ?? double.NaN)}", "–", null, null, null));
        }
        if (Best(r, "cluster.node1.") is { } clusterNode1)
        {
            var failed = r.Figures.Where(kv => kv.Key.StartsWith("cluster.", StringComparison.Ordinal)
                && kv.Key.EndsWith(".failures", StringComparison.Ordinal)).Sum(kv => kv.Value);
            r.Headlines.Add(new Headline("cluster (3 nodes in one process, PostgreSQL): durable first bans/s, best in-flight level",
                $"{N(clusterNode1)} through node 1, {N(Best(r, "cluster.spread.") ?? double.NaN)} spread over 3 facades; failures {failed:0}",
                "failures 0", Met(failed == 0), Ratio(clusterNode1, r.Get("inproc.first.best"), "single-node SQLite first bans in process"), null));
        }
        if (r.Get("cluster.kick.c1.p99_ms") is { } clusterKick)
        {
            r.Headlines.Add(new Headline("cluster kick: ban acknowledged on node 1 → Kick on node 3, p99 (1 / 16 in flight)",
                string.Create(CultureInfo.InvariantCulture, $"{clusterKick:0.#} / {r.Get("cluster.kick.c16.p99_ms"):0.#} ms; ban sent → kick p99 {r.Get("cluster.kick.c1.send_p99_ms"):0.#} / {r.Get("cluster.kick.c16.send_p99_ms"):0.#} ms; missed {(r.Get("cluster.kick.c1.missing") ?? 0) + (r.Get("cluster.kick.c16.missing") ?? 0):0}"),
                "≤ 20 ms (the kick target)", Met(clusterKick <= 20 && (r.Get("cluster.kick.c1.missing") ?? 0) == 0), null, null));
        }
        if (r.Get("cluster.loss.n") is { } lossN)
        {
            string S(string key) => r.Get(key) is { } ms ? string.Create(CultureInfo.InvariantCulture, $"{ms / 1000:0.0} s") : "**not within the bound**";
            r.Headlines.Add(new Headline($"cluster node loss, {N(lossN)} running bans: oldest node terminated → index ready on a survivor / block list complete",
                $"{S("cluster.loss.index_ready_ms")} / {S("cluster.loss.listed_ms")} (unreachable {S("cluster.loss.unreachable_ms")}, removed {S("cluster.loss.removed_ms")})",
                "(report)", r.Get("cluster.loss.listed_ms") is null ? "**no**" : null, null, null));
        }
        if (r.Get("cluster.index.rebuild_ms") is { } rebuild)
        {
            r.Headlines.Add(new Headline($"cluster expiry index with {N(r.Get("cluster.index.n") ?? 0)} running bans: rebuild / heap per ban",
                string.Create(CultureInfo.InvariantCulture, $"{rebuild / 1000:0.0} s / {r.Get("cluster.index.heap_bytes_per_ban"):N0} B"),
                "(report)", null, null, null));
        }
    }

    private static double? Best(Report r, string prefix)
    {
        var values = r.Figures.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)
            && kv.Key.Count(ch => ch == '.') == prefix.Count(ch => ch == '.')).Select(kv => kv.Value).ToList();
        return values.Count == 0 ? null : values.Max();
    }
}
