using BanActors.Bans;
using BanActors.Bench.Infra;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Issues 10 and 11: what the read sides cost durable bans. The same in-process load (first bans of new users, then
/// re-bans of them) on an engine without the ledger's projection, with it, and with it and an event handler on the
/// feed (in-process, counting), in alternating rounds on fresh SQLite files so that the machine's drift falls on all
/// alike; figures are medians of the rounds. Targets: the ledger costs at most 10% of the ban rate, the feed at most
/// 10% more.
/// </summary>
public sealed class LedgerCost : IScenario
{
    public string Name => "ledger-cost";

    public string Title => "10/11. What the ledger and the event feed cost durable bans";

    public async Task RunAsync(BenchOptions options, Report report)
    {
        var rounds = options.Count("ledger-rounds", 3, 2);
        // Steps of 30,000: a step's own tail (the ~100 ms the read side trails its last ban, see Settle) is then a few
        // percent of it rather than a tenth.
        var n = options.Count("ledger-cost-n", 30_000, 5_000);
        var c = options.Ramp.Length == 1 ? options.Ramp[0] : 256;
        var samples = new Dictionary<string, List<double>>();
        // One unreported round first: the process's first engine JIT-compiles thousands of methods. Then the arms'
        // order turns by round, so that none always runs first.
        for (var round = -1; round < rounds; round++)
        {
            foreach (var arm in round < 0 ? Arms : Arms.Skip(round % Arms.Length).Concat(Arms.Take(round % Arms.Length)))
            {
                using var dir = new TempDir(Name);
                var ledger = arm != "no-ledger";
                var delivered = 0L;
                IReadOnlyList<IBanEventHandler>? handlers = arm == "feed" ? [new CountingHandler(() => Interlocked.Increment(ref delivered))] : null;
                await using var host = await BenchEngine.StartAsync(dir.File("bans.db"), handlers: handlers,
                    configure: o => o.RunsLedger = ledger);
                await host.WaitIndexReadyAsync(TimeSpan.FromSeconds(30));
                var engine = host.Engine;
                // JIT and pool warm-up of this engine, not reported.
                var warm = await Load.RunAsync(Math.Min(n, 2_000), 64, options.MaxStep, i => engine.BanAsync(new UserKey("bench", $"w{i}"), 60));
                // Each step starts with the read sides caught up with the steps before it: otherwise a step pays for
                // projecting the previous one (the re-bans for the first bans, the first bans for the warm-up), and the
                // arms without a ledger pay for nothing. A step's own tail (what is still unprojected when it ends, up
                // to a poll and a batch) is reported with it, not counted.
                var made = (long)warm.Completed;
                var bound = TimeSpan.FromSeconds(60);
                await Settle();
                var first = await Load.RunAsync(n, c, options.MaxStep, i => engine.BanAsync(new UserKey("bench", $"u{i}"), 60));
                made += first.Completed;
                var firstTail = await Settle();
                var re = await Load.RunAsync(first.Completed, c, options.MaxStep, i => engine.BanAsync(new UserKey("bench", $"u{i}"), 90));
                made += re.Completed;
                var deliveredAtEnd = Interlocked.Read(ref delivered);
                var reTail = await Settle();
                if (ledger) Add($"{arm}.tail_ms", Math.Max(firstTail.TotalMilliseconds, reTail.TotalMilliseconds));

                Task<TimeSpan> Settle() => !ledger ? Task.FromResult(TimeSpan.Zero)
                    : arm == "feed" ? Wait.UntilAsync(() => Interlocked.Read(ref delivered) >= made, bound)
                    : Wait.UntilAsync(() => LedgerFile.Entries(dir.File("bans.db")) >= made, bound);
                var label = round < 0 ? "warm-up round, not counted" : $"round {round + 1}";
                report.Add(Row.From(Name, $"first ban (new user) [{arm}] ({label})", c, first, "bans/s"));
                report.Add(Row.From(Name, $"re-ban (live actor) [{arm}] ({label})", c, re, "bans/s"));
                if (round < 0) continue;
                if (first.Failures == 0) Add($"{arm}.first", first.PerSecond);
                if (re.Failures == 0) Add($"{arm}.reban", re.PerSecond);
                Add($"{arm}.first.cpu_us", first.CpuMicrosPerOp);
                Add($"{arm}.reban.cpu_us", re.CpuMicrosPerOp);
                if (handlers is not null) Add("feed.delivered_during_load", deliveredAtEnd);
            }
        }
        foreach (var (figure, baseArm, arm, what) in new[]
                 {
                     ("ledger_cost", "no-ledger", "ledger", "the ledger's projection"),
                     ("feed_cost", "ledger", "feed", "an event handler on the feed (over the ledger)"),
                     ("read_sides_cost", "no-ledger", "feed", "the ledger and the feed together"),
                 })
        {
            var parts = new List<string>();
            foreach (var kind in new[] { "first", "reban", "first.cpu_us", "reban.cpu_us" })
            {
                if (!samples.TryGetValue($"{arm}.{kind}", out var on) || !samples.TryGetValue($"{baseArm}.{kind}", out var off)) continue;
                double with = Stats.Median(on), without = Stats.Median(off);
                report.Figure($"{figure}.{kind}.with", with);
                report.Figure($"{figure}.{kind}.without", without);
                var cost = kind.EndsWith("cpu_us", StringComparison.Ordinal) ? with / without - 1 : 1 - with / without;
                report.Figure($"{figure}.{kind}", cost);
                parts.Add($"{kind} {without:N0} → {with:N0} ({cost:+0.0%;-0.0%})");
                if (kind is "first" or "reban" && figure != "read_sides_cost")
                    report.Headlines.Add(new Headline($"cost of {what} on {(kind == "first" ? "first bans" : "re-bans")}, {c} in flight",
                        $"{cost:0.0%}", "≤ 10%", cost <= 0.10 ? "yes" : "no", null, null));
            }
            report.Note($"cost of {what} at {c} in flight, medians of {rounds} alternating rounds ({baseArm} → {arm}; "
                + "cost = rate lost, or CPU added per ban): " + string.Join("; ", parts));
        }
        foreach (var arm in Arms.Skip(1))
            if (samples.TryGetValue($"{arm}.tail_ms", out var tail))
                report.Note($"{arm} arm: the read side caught up {Stats.Median(tail):N0} ms after a step's last ban (median of rounds; not counted in the rates)");
        if (samples.TryGetValue("feed.delivered_during_load", out var d))
            report.Note($"feed arm: {Stats.Median(d):N0} events delivered to the handler by the end of its load (median of rounds)");

        void Add(string key, double value)
        {
            if (!samples.TryGetValue(key, out var list)) samples[key] = list = [];
            list.Add(value);
        }
    }

    private static readonly string[] Arms = ["no-ledger", "ledger", "feed"];

    private sealed class CountingHandler(Action onEvent) : IBanEventHandler
    {
        public string Name => "bench-count";

        public Task HandleAsync(BanEvent banEvent, CancellationToken cancellationToken)
        {
            onEvent();
            return Task.CompletedTask;
        }
    }
}
