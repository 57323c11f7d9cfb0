using BanActors.Testing;
using BanActors.Bans;
using BanActors.Bench.Infra;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Scenario 1: durable bans through the facade (<c>IBanEngine.BanAsync</c>), no HTTP. For each in-flight level:
/// first bans of distinct, never-seen users (actor creation + recovery + one write), then re-bans of the same
/// users while their actors are alive (one write). A ban counts when BanAsync returned, i.e. it is persisted.
/// </summary>
public sealed class InProcessBans : IScenario
{
    public string Name => "inproc";

    public string Title => "1. Durable ban throughput in process (facade)";

    private static string PerOp(LoadResult r) => r.Completed == 0 ? "" :
        $"{r.AllocatedBytes / (double)r.Completed / 1024:0.#} KB allocated per ban, GCs gen0/1/2 {r.Collections.Gen0}/{r.Collections.Gen1}/{r.Collections.Gen2}, "
        + $"{r.JittedMethods:N0} methods JIT-compiled";

    public async Task RunAsync(BenchOptions options, Report report)
    {
        using var dir = new TempDir(Name);
        await using var host = await BenchEngine.StartAsync(dir.File("bans.db"));
        await host.WaitIndexReadyAsync(TimeSpan.FromSeconds(30));
        var engine = host.Engine;
        const string app = "bench";

        // JIT and connection-pool warm-up, not reported: the first few thousand actors of a process pay extra.
        var warm = Math.Min(options.N, 2_000);
        await Load.RunAsync(warm, 64, options.MaxStep, i => engine.BanAsync(new UserKey(app, $"warm-{i}"), 60));
        await Load.RunAsync(warm, 64, options.MaxStep, i => engine.BanAsync(new UserKey(app, $"warm-{i}"), 60));

        double bestFirst = 0, bestRe = 0;
        foreach (var c in options.Ramp)
        {
            var n = options.N;
            var first = await Load.RunAsync(n, c, options.MaxStep,
                i => engine.BanAsync(new UserKey(app, $"u{c}-{i}"), 60));
            report.Add(Row.From("inproc", "first ban (new user)", c, first, "bans/s", note: PerOp(first)));
            if (options["inproc-cases"] == "first") continue;
            var re = await Load.RunAsync(first.Completed, c, options.MaxStep,
                i => engine.BanAsync(new UserKey(app, $"u{c}-{i}"), 90));
            report.Add(Row.From("inproc", "re-ban (live actor)", c, re, "bans/s", note: PerOp(re)));
            if (first.Failures == 0) bestFirst = Math.Max(bestFirst, first.PerSecond);
            if (re.Failures == 0) bestRe = Math.Max(bestRe, re.PerSecond);
            report.Figure($"inproc.first.c{c}", first.PerSecond);
            report.Figure($"inproc.reban.c{c}", re.PerSecond);
            report.Figure($"inproc.first.c{c}.cpu_us", first.CpuMicrosPerOp);
            report.Figure($"inproc.reban.c{c}.cpu_us", re.CpuMicrosPerOp);
        }
        report.Figure("inproc.first.best", bestFirst);
        report.Figure("inproc.reban.best", bestRe);
    }
}
