using BanActors.Bans;
using BanActors.Bench.Infra;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Issue 10: what the ledger's projection costs durable bans. The same in-process load (first bans of new users,
/// then re-bans of them) on an engine with the projection and on one without it, in alternating rounds on fresh
/// SQLite files so that the machine's drift falls on both alike; figures are medians of the rounds. Target: the
/// ledger costs at most 10% of the ban rate.
/// </summary>
public sealed class LedgerCost : IScenario
{
    public string Name => "ledger-cost";

    public string Title => "10. What the ledger costs durable bans (with and without its projection)";

    public async Task RunAsync(BenchOptions options, Report report)
    {
        var rounds = options.Count("ledger-rounds", 3, 2);
        var n = options.N;
        var c = options.Ramp.Length == 1 ? options.Ramp[0] : 256;
        var samples = new Dictionary<string, List<double>>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var ledger in new[] { true, false })
            {
                using var dir = new TempDir(Name);
                await using var host = await BenchEngine.StartAsync(dir.File("bans.db"), configure: o => o.RunsLedger = ledger);
                await host.WaitIndexReadyAsync(TimeSpan.FromSeconds(30));
                var engine = host.Engine;
                // JIT and pool warm-up of this engine, not reported.
                await Load.RunAsync(Math.Min(n, 2_000), 64, options.MaxStep, i => engine.BanAsync(new UserKey("bench", $"w{i}"), 60));
                var arm = ledger ? "ledger" : "no-ledger";
                var first = await Load.RunAsync(n, c, options.MaxStep, i => engine.BanAsync(new UserKey("bench", $"u{i}"), 60));
                var re = await Load.RunAsync(first.Completed, c, options.MaxStep, i => engine.BanAsync(new UserKey("bench", $"u{i}"), 90));
                report.Add(Row.From(Name, $"first ban (new user) [{arm}] (round {round + 1})", c, first, "bans/s"));
                report.Add(Row.From(Name, $"re-ban (live actor) [{arm}] (round {round + 1})", c, re, "bans/s"));
                if (first.Failures == 0) Add($"{arm}.first", first.PerSecond);
                if (re.Failures == 0) Add($"{arm}.reban", re.PerSecond);
                Add($"{arm}.first.cpu_us", first.CpuMicrosPerOp);
                Add($"{arm}.reban.cpu_us", re.CpuMicrosPerOp);
            }
        }
        var parts = new List<string>();
        foreach (var kind in new[] { "first", "reban", "first.cpu_us", "reban.cpu_us" })
        {
            if (!samples.TryGetValue($"ledger.{kind}", out var on) || !samples.TryGetValue($"no-ledger.{kind}", out var off)) continue;
            double with = Median(on), without = Median(off);
            report.Figure($"ledger_cost.{kind}.with", with);
            report.Figure($"ledger_cost.{kind}.without", without);
            var cost = kind.EndsWith("cpu_us", StringComparison.Ordinal) ? with / without - 1 : 1 - with / without;
            report.Figure($"ledger_cost.{kind}", cost);
            parts.Add($"{kind} {without:N0} → {with:N0} ({cost:+0.0%;-0.0%})");
        }
        report.Note($"ledger cost at {c} in flight, medians of {rounds} alternating rounds (without → with the projection; "
            + "cost = rate lost, or CPU added per ban): " + string.Join("; ", parts));
        if (samples.TryGetValue("ledger.first", out var withLedger) && samples.TryGetValue("no-ledger.first", out var withoutLedger))
        {
            var cost = 1 - Median(withLedger) / Median(withoutLedger);
            report.Headlines.Add(new Headline($"ledger cost on first bans, {c} in flight", $"{cost:0.0%}", "≤ 10%",
                cost <= 0.10 ? "yes" : "no", null, null));
        }

        void Add(string key, double value)
        {
            if (!samples.TryGetValue(key, out var list)) samples[key] = list = [];
            list.Add(value);
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
