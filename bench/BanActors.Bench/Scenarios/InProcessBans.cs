using System.Diagnostics;
using System.Diagnostics.Metrics;
using BanActors.Testing;
using BanActors.Bans;
using BanActors.Bench.Infra;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Scenario 1: durable bans through the facade (<c>IBanEngine.BanAsync</c>), no HTTP. For each in-flight level:
/// first bans of distinct, never-seen users (actor creation + recovery + one write), then re-bans of the same
/// users while their actors are alive (one write). A ban counts when BanAsync returned, i.e. it is persisted.
/// With <c>--inproc-listen on|both</c> the ramp also runs with every instrument and span of the engine listened to.
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

        var listen = options["inproc-listen"] ?? "off";
        bool[] modes = listen switch
        {
            "off" => [false],
            "on" => [true],
            "both" => [false, true],
            _ => throw new ArgumentException($"--inproc-listen must be off, on or both, not '{listen}'"),
        };
        foreach (var listened in modes)
        {
            using var listener = listened ? new EngineListener() : null;
            var suffix = listened ? " [listened]" : "";
            var key = listened ? "inproc.listened" : "inproc";
            double bestFirst = 0, bestRe = 0;
            foreach (var c in options.Ramp)
            {
                var n = options.N;
                var prefix = listened ? "l" : "u";
                var first = await Load.RunAsync(n, c, options.MaxStep,
                    i => engine.BanAsync(new UserKey(app, $"{prefix}{c}-{i}"), 60));
                report.Add(Row.From("inproc", "first ban (new user)" + suffix, c, first, "bans/s", note: PerOp(first)));
                if (options["inproc-cases"] == "first") continue;
                var re = await Load.RunAsync(first.Completed, c, options.MaxStep,
                    i => engine.BanAsync(new UserKey(app, $"{prefix}{c}-{i}"), 90));
                report.Add(Row.From("inproc", "re-ban (live actor)" + suffix, c, re, "bans/s", note: PerOp(re)));
                if (first.Failures == 0) bestFirst = Math.Max(bestFirst, first.PerSecond);
                if (re.Failures == 0) bestRe = Math.Max(bestRe, re.PerSecond);
                report.Figure($"{key}.first.c{c}", first.PerSecond);
                report.Figure($"{key}.reban.c{c}", re.PerSecond);
                report.Figure($"{key}.first.c{c}.cpu_us", first.CpuMicrosPerOp);
                report.Figure($"{key}.reban.c{c}.cpu_us", re.CpuMicrosPerOp);
            }
            report.Figure($"{key}.first.best", bestFirst);
            report.Figure($"{key}.reban.best", bestRe);
            if (listener is not null)
                report.Note($"inproc [listened]: {listener.Measurements:N0} measurements and {listener.Spans:N0} spans taken");
        }
    }

    /// <summary>
    /// Takes every measurement of the meter <c>BanActors</c> and every span of its activity source, and adds them up as
    /// counts them (an exporter's hook into the instruments, without its aggregation and export).
    /// </summary>
    private sealed class EngineListener : IDisposable
    {
        private readonly MeterListener _meters = new();
        private readonly ActivityListener _spans;
        private long _measurements;
        private long _spanCount;

        public EngineListener()
        {
            _meters.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "BanActors") l.EnableMeasurementEvents(instrument);
            };
            _meters.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref _measurements));
            _meters.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref _measurements));
            _meters.Start();
            _spans = new ActivityListener
            {
                ShouldListenTo = source => source.Name == "BanActors",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _ => Interlocked.Increment(ref _spanCount),
            };
            ActivitySource.AddActivityListener(_spans);
        }

        public long Measurements => Interlocked.Read(ref _measurements);

        public long Spans => Interlocked.Read(ref _spanCount);

        public void Dispose()
        {
            _meters.Dispose();
            _spans.Dispose();
        }
    }
}
