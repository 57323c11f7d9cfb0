using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using BanActors.Testing;
using BanActors.Bans;
using BanActors.Bench.Infra;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Scenario 1: durable bans through the facade (<c>IBanEngine.BanAsync</c>), no HTTP. For each in-flight level:
/// first bans of distinct, never-seen users (actor creation + recovery + one write), then re-bans of the same
/// users while their actors are alive (one write). A ban counts when BanAsync returned, i.e. it is persisted.
/// With <c>--inproc-listen on|both</c> the ramp also runs with the OpenTelemetry SDK collecting every instrument and
/// span of the engine; <c>--inproc-rounds R</c> alternates the two R times.
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
        const string app = "bench";
        var listen = options["inproc-listen"] ?? "off";
        bool[] modes = listen switch
        {
            "off" => [false],
            "on" => [true],
            "both" => [false, true],
            _ => throw new ArgumentException($"--inproc-listen must be off, on or both, not '{listen}'"),
        };
        // With both modes, each arm of each round runs on an engine of its own (a fresh SQLite file and actor system,
        // so that neither inherits the other's journal or live actors), in off/on order in odd rounds and on/off in
        // even ones, so that the machine's drift falls on both alike; each figure is the median of its rounds.
        var rounds = options.Count("inproc-rounds", 1, 1);
        var rates = new Dictionary<string, List<double>>();
        void Sample(string key, double value)
        {
            if (!rates.TryGetValue(key, out var list)) rates[key] = list = [];
            list.Add(value);
        }
        long measurements = 0, spans = 0;
        // A side-by-side starts with one unreported round: the process's first engine JIT-compiles thousands of methods
        // (7,410 in round 1 of 20261204 against under 400 later) and would lose to whichever arm came second.
        for (var round = modes.Length == 2 && rounds > 1 ? -1 : 0; round < rounds; round++)
        {
            foreach (var listened in round % 2 != 0 ? modes : modes.Reverse())
            {
                using var dir = new TempDir(Name);
                await using var host = await BenchEngine.StartAsync(dir.File("bans.db"));
                await host.WaitIndexReadyAsync(TimeSpan.FromSeconds(30));
                var engine = host.Engine;
                // JIT and connection-pool warm-up, not reported: the first few thousand actors of an engine pay extra.
                var warm = Math.Min(options.N, 2_000);
                await Load.RunAsync(warm, 64, options.MaxStep, i => engine.BanAsync(new UserKey(app, $"warm-{i}"), 60));
                await Load.RunAsync(warm, 64, options.MaxStep, i => engine.BanAsync(new UserKey(app, $"warm-{i}"), 60));
                using var telemetry = listened ? new EngineTelemetry(options["inproc-telemetry"] ?? "both") : null;
                var suffix = (listened ? " [telemetry on]" : "") + (round < 0 ? " (warm-up round, not counted)" : rounds > 1 ? $" (round {round + 1})" : "");
                var key = listened ? "inproc.listened" : "inproc";
                var prefix = (listened ? "l" : "u") + round;
                foreach (var c in options.Ramp)
                {
                    var n = options.N;
                    var first = await Load.RunAsync(n, c, options.MaxStep,
                        i => engine.BanAsync(new UserKey(app, $"{prefix}-{c}-{i}"), 60));
                    report.Add(Row.From("inproc", "first ban (new user)" + suffix, c, first, "bans/s", note: PerOp(first)));
                    if (round >= 0 && first.Failures == 0) Sample($"{key}.first.c{c}", first.PerSecond);
                    if (round >= 0) Sample($"{key}.first.c{c}.cpu_us", first.CpuMicrosPerOp);
                    if (options["inproc-cases"] == "first") continue;
                    var re = await Load.RunAsync(first.Completed, c, options.MaxStep,
                        i => engine.BanAsync(new UserKey(app, $"{prefix}-{c}-{i}"), 90));
                    report.Add(Row.From("inproc", "re-ban (live actor)" + suffix, c, re, "bans/s", note: PerOp(re)));
                    if (round >= 0 && re.Failures == 0) Sample($"{key}.reban.c{c}", re.PerSecond);
                    if (round >= 0) Sample($"{key}.reban.c{c}.cpu_us", re.CpuMicrosPerOp);
                }
                if (telemetry is null) continue;
                telemetry.Flush();
                measurements += telemetry.Measurements;
                spans += telemetry.Spans;
            }
        }
        foreach (var (key, values) in rates) report.Figure(key, Stats.Median(values));
        foreach (var key in modes.Select(l => l ? "inproc.listened" : "inproc"))
        foreach (var kind in new[] { "first", "reban" })
        {
            var best = options.Ramp.Select(c => rates.GetValueOrDefault($"{key}.{kind}.c{c}") is { Count: > 0 } v ? Stats.Median(v) : 0).DefaultIfEmpty(0).Max();
            report.Figure($"{key}.{kind}.best", best);
        }
        if (modes.Length == 2)
        {
            var costs = new List<string>();
            foreach (var kind in new[] { "first", "reban" })
            foreach (var c in options.Ramp)
            {
                if (rates.GetValueOrDefault($"inproc.{kind}.c{c}") is not { Count: > 0 } off
                    || rates.GetValueOrDefault($"inproc.listened.{kind}.c{c}") is not { Count: > 0 } on) continue;
                var cost = 1 - Stats.Median(on) / Stats.Median(off);
                report.Figure($"inproc.telemetry_cost.{kind}.c{c}", cost);
                costs.Add($"{kind} c{c} {cost:+0.0%;-0.0%} ({Stats.Median(off):N0} → {Stats.Median(on):N0} bans/s)");
            }
            report.Note($"inproc telemetry cost (1 − on/off, medians of {rounds} alternating round(s); on = OpenTelemetry SDK "
                + "MeterProvider + TracerProvider, always-on sampling, batch span export): " + string.Join("; ", costs));
        }
        if (modes.Contains(true))
            report.Note($"inproc [telemetry on]: {measurements:N0} metric points exported and {spans:N0} spans exported");
    }

    /// <summary>
    /// The OpenTelemetry SDK as a host runs it: a MeterProvider on the meter <c>BanActors</c> with a periodic reader
    /// (1 s) and a TracerProvider on the activity source <c>BanActors</c> with always-on sampling and batched export.
    /// The exporters only count what they are given: the SDK's aggregation and batching are paid, the network is not.
    /// </summary>
    private sealed class EngineTelemetry : IDisposable
    {
        private readonly CountingMetricExporter _metricExporter = new();
        private readonly CountingSpanExporter _spanExporter = new();
        private readonly MeterProvider? _meters;
        private readonly TracerProvider? _traces;

        /// <param name="what">metrics, traces or both.</param>
        public EngineTelemetry(string what)
        {
            if (what is not ("metrics" or "traces" or "both"))
                throw new ArgumentException($"--inproc-telemetry must be metrics, traces or both, not '{what}'");
            if (what != "traces")
                _meters = Sdk.CreateMeterProviderBuilder()
                    .AddMeter("BanActors")
                    .AddReader(new PeriodicExportingMetricReader(_metricExporter, exportIntervalMilliseconds: 1000))
                    .Build();
            if (what != "metrics")
                _traces = Sdk.CreateTracerProviderBuilder()
                    .AddSource("BanActors")
                    .SetSampler(new AlwaysOnSampler())
                    .AddProcessor(new BatchActivityExportProcessor(_spanExporter))
                    .Build();
        }

        public long Measurements => Interlocked.Read(ref _metricExporter.Points);

        public long Spans => Interlocked.Read(ref _spanExporter.Spans);

        public void Flush()
        {
            _meters?.ForceFlush();
            _traces?.ForceFlush();
        }

        public void Dispose()
        {
            _meters?.Dispose();
            _traces?.Dispose();
        }
    }

    private sealed class CountingMetricExporter : BaseExporter<Metric>
    {
        public long Points;

        public override ExportResult Export(in Batch<Metric> batch)
        {
            foreach (var metric in batch)
            foreach (ref readonly var _ in metric.GetMetricPoints()) Interlocked.Increment(ref Points);
            return ExportResult.Success;
        }
    }

    private sealed class CountingSpanExporter : BaseExporter<Activity>
    {
        public long Spans;

        public override ExportResult Export(in Batch<Activity> batch)
        {
            Interlocked.Add(ref Spans, batch.Count);
            return ExportResult.Success;
        }
    }
}
