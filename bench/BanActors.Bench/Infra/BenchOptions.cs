using System.Globalization;

namespace BanActors.Bench.Infra;

/// <summary>Command-line flags: <c>--name value</c> pairs; see <see cref="Usage"/>.</summary>
public sealed class BenchOptions
{
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);

    public static string Usage => """
        BanActors.Bench: honest, rerunnable figures for the ban engine, its ceilings on this machine, and Redis.

        dotnet run -c Release --project bench/BanActors.Bench -- [flags]
          --scenario a,b,...   which scenarios (default: all). Names:
                               ceiling-sqlite, ceiling-kestrel, inproc, connect-gate, http, redis,
                               unban, restart, restart-history, kick, cluster, crash-cycles, ledger-log, feed,
                               ledger-cost, webhook, soak (only by name, not in all)
          --n N                operations per load step for the throughput scenarios (default 10000)
          --ramp 1,16,256,1024 in-flight levels for the in-process ramp (default 1,16,256,1024)
          --unban-n 10000,100000  bans that end in the same second, one run per value (default 10000,100000)
          --unban-warmup N     unban, feed: bans ending together in a warm-up round before the timed ones, reported as
                               the process's cold figure (default 2000; 0 skips it)
          --restart-n N        running bans in the journal for the restart scenario (default 100000)
          --history-n N        restart-history: ban events in the journal in all (default 1000000; quick 100000)
          --history-running R  restart-history: of which bans still running (default 100000; quick 10000)
          --history-starts S   restart-history: child starts from the snapshot (default 3; quick 1); half as many
                               full rebuilds (at least 1)
          --kick-n N           WebSocket sessions for the kick scenario (default 1000)
          --cluster-n N        cluster: bans per load step through node 1 / spread over 3 nodes (default 5000)
          --cluster-ramp 16,256  cluster: in-flight levels of those steps (default 16,256)
          --cluster-kick-n N   cluster: sessions on node 3 kicked by bans through node 1, per round (default 1000)
          --cluster-loss-n N   cluster: running bans when the oldest node is terminated (default 10000)
          --cluster-index-n N  cluster: running bans for the index cost step (rebuild time, heap; default 100000; 0 skips)
          --cluster-heartbeat-pause S, --cluster-stable-after S  cluster failure detector / split-brain timing
                               (default 15 s as the tests use for 3 nodes on 2 cores / 20 s, the engine's default)
          --crash-cycles N     crash-cycles: SIGKILLs of the real server under load (default 20; quick 5)
          --crash-load-seconds S, --crash-in-flight C  load before each kill (default 3 s) and requests in flight (24)
          --ledger-entries N   ledger-log: entries in the ledger before its pages are timed (default 1000000; quick 200000)
          --ledger-rounds R    ledger-cost: alternating rounds without the ledger, with it, and with it and a feed handler (default 3;
                               one --ramp level, default 256 in flight)
          --ledger-cost-n N    ledger-cost: bans a step (default 30000; quick 5000); each step starts with the read sides
                               caught up with the steps before it
          --webhook-n N        webhook: signed bans whose user.blocked and user.block_expired webhooks are timed
                               at a receiver in the bench (default 10000; quick 2000)
          --feed-n N           feed: bans ending together whose expiry events are timed (default 10000; quick 2000)
          --soak-minutes M     soak: minutes of mixed load on the real server (default 30; --quick 3)
          --soak-rate R        soak: operations started per second (default 100)
          --soak-in-flight C   soak: operations in flight at most (default 16)
          --soak-users U       soak: distinct users (default 10000; --quick 2000)
          --soak-sessions S    soak: WebSocket sessions open at most (default 100; --quick 50)
          --soak-idle-seconds S  soak: idle time after the load before the last sample (default 60; --quick 20)
          --max-seconds S      time bound of one load step (default 60)
          --http-connections C HTTP connections of the load client (default 64)
          --quick              small sizes for development (n 2000, unban 2000, restart 10000, kick 200,
                               cluster-n 1000, cluster-kick-n 300, cluster-loss-n 2000,
                               cluster-index-n 10000)
          --inproc-cases first only first bans in the in-process ramp (for profiling)
          --inproc-listen M    off (default), on or both: run the in-process ramp with the OpenTelemetry SDK
                               collecting the engine's meter and spans (counting exporters: the SDK's cost
                               without network I/O); both runs the ramp without, then with, for a side-by-side
          --inproc-telemetry T with --inproc-listen: metrics, traces or both (default) switched on
          --inproc-rounds R    with --inproc-listen both: alternate off/on R times, figures are medians (default 1)
          --journal-sync S     FULL (default: the engine as shipped) or NORMAL (adds SqliteConnectionPragmas) for
                               the in-process engine scenarios (inproc, connect-gate, unban, restart)
          --hocon "K = V"      HOCON over the in-process engines' configuration (to try a setting; noted in the report)
          --akka-loglevel L    Akka log level during runs (default WARNING; the engine logs every ban at INFO)
          --out DIR            results folder (default bench/results of this repository); each run writes
                               <stamp>.md and <stamp>.json, and the same JSON again as latest.json
          --no-write           print only, write no results file
          --keep               keep the temporary SQLite files
        """;

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{a}'");
            var key = a[2..];
            if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) o._values[key] = args[++i];
            else o._values[key] = "true";
        }
        return o;
    }

    public bool Has(string key) => _values.ContainsKey(key);

    public string? this[string key] => _values.TryGetValue(key, out var v) ? v : null;

    public bool Quick => Has("quick");

    public int Count(string key, int full, int quick) =>
        _values.TryGetValue(key, out var v) ? int.Parse(v.Replace("_", "", StringComparison.Ordinal), CultureInfo.InvariantCulture) : Quick ? quick : full;

    public int[] Integers(string key, int[] full, int[] quick) =>
        _values.TryGetValue(key, out var v)
            ? v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => int.Parse(s.Replace("_", "", StringComparison.Ordinal), CultureInfo.InvariantCulture)).ToArray()
            : Quick ? quick : full;

    public int N => Count("n", 10_000, 2_000);
    public int[] Ramp => Integers("ramp", [1, 16, 256, 1024], [1, 16, 256, 1024]);
    public int[] UnbanN => Integers("unban-n", [10_000, 100_000], [2_000]);

    /// <summary>unban, feed: bans ending together in the warm-up round before the timed ones (0 skips it).</summary>
    public int UnbanWarmUp => Count("unban-warmup", 2_000, 2_000);
    public int RestartN => Count("restart-n", 100_000, 10_000);
    public int KickN => Count("kick-n", 1_000, 200);
    public TimeSpan MaxStep => TimeSpan.FromSeconds(Count("max-seconds", 60, 30));
    public int HttpConnections => Count("http-connections", 64, 64);

    public ISet<string> Scenarios =>
        (this["scenario"] ?? "all").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);

    public string CommandLine { get; init; } = "";
}
