using System.Diagnostics;
using Akka.Actor;
using BanActors.Bans;
using BanActors.Bench.Infra;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Issue 11: the event feed's lag for expiries. N one-minute bans made on a frozen clock (so they all end at the same
/// instant E), the clock then run in real time from E − 2 s, and an in-process event handler (the same path as a
/// webhook, without the HTTP hop) timing each <c>user.block_expired</c> from E: end time → the unban recorded →
/// the ledger's projection → the feed → the handler. Target: p99 ≤ 1 s at 10,000.
/// </summary>
public sealed class FeedExpiryLag : IScenario
{
    public string Name => "feed";

    public string Title => "11. Event feed: expiry events for bans ending together";

    private sealed class TimingHandler(Action<BanEvent> onEvent) : IBanEventHandler
    {
        public string Name => "bench-timing";

        public Task HandleAsync(BanEvent banEvent, CancellationToken cancellationToken)
        {
            onEvent(banEvent);
            return Task.CompletedTask;
        }
    }

    public async Task RunAsync(BenchOptions options, Report report)
    {
        // As in the unban scenario: a smaller burst first, so the timed one runs on compiled code as a server that
        // has run for a while does; the warm-up's figures are reported as the cold ones.
        if (options.UnbanWarmUp > 0) await RunOnce(options.UnbanWarmUp, report, warmUp: true);
        await RunOnce(options.Count("feed-n", 10_000, 2_000), report);
    }

    private async Task RunOnce(int n, Report report, bool warmUp = false)
    {
        var key = warmUp ? $"feed.warmup.expired.n{n}" : $"feed.expired.n{n}";
        using var dir = new TempDir(Name);
        var frozenAt = new DateTimeOffset(DateTimeOffset.UtcNow.Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
        var clock = new ControlledClock();
        clock.Freeze(frozenAt);

        var endTicks = 0L;
        var lags = new Latencies(n);
        // Where the time goes: end → the unban persisted (BanEnded) → the ledger projection read it (the event's time,
        // on the bench clock that runs in real time) → the handler.
        var recorded = new Latencies(n);
        var projected = new Latencies(n);
        var endMs = frozenAt.AddMinutes(1).ToUnixTimeMilliseconds();
        var seen = new SeenSet();
        var blocked = 0;
        var allSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new TimingHandler(e =>
        {
            if (e.Type == BanEvent.Blocked) { Interlocked.Increment(ref blocked); return; }
            if (e.Type != BanEvent.BlockExpired || Volatile.Read(ref endTicks) == 0 || !seen.TryAdd(e.UserId)) return;
            lags.Add(Stopwatch.GetTimestamp() - Volatile.Read(ref endTicks));
            projected.AddMs(Math.Max(0, e.Time.ToUnixTimeMilliseconds() - endMs));
            if (seen.Count >= n) allSeen.TrySetResult();
        });
        await using var host = await BenchEngine.StartAsync(dir.File("bans.db"), clock, handlers: [handler]);
        await host.WaitIndexReadyAsync(TimeSpan.FromSeconds(30));
        var ended = new SeenSet();
        Action<BanEnded> onEnded = e =>
        {
            if (Volatile.Read(ref endTicks) != 0 && e.Cause == UnbanCause.Expired && ended.TryAdd(e.User.UserId))
                recorded.Add(Stopwatch.GetTimestamp() - Volatile.Read(ref endTicks));
        };
        host.System.ActorOf(Props.Create(() => new EndedObserver(onEnded)), "ended-observer");

        var bans = await Load.RunAsync(n, 256, TimeSpan.FromSeconds(Math.Max(120, n / 100)),
            i => host.Engine.BanAsync(new UserKey("bench", $"f{i}"), 1));
        report.Add(Row.From("feed", $"set-up: {n:N0} one-minute bans", 256, bans, "bans/s"));
        if (bans.Completed < n)
        {
            report.Skip($"feed n={n}", $"only {bans.Completed} of {n} set-up bans succeeded ({bans.FirstError})");
            return;
        }
        // Let the feed deliver the n user.blocked events first, so the expiries are timed on their own.
        var blockedSeconds = (await Wait.UntilAsync(() => Volatile.Read(ref blocked) >= n, TimeSpan.FromSeconds(Math.Max(60, n / 100)))).TotalSeconds;

        var lead = TimeSpan.FromSeconds(2);
        Volatile.Write(ref endTicks, Stopwatch.GetTimestamp() + (long)(lead.TotalSeconds * Stopwatch.Frequency));
        clock.RunFrom(frozenAt.AddMinutes(1) - lead);
        var cpu = CpuSpan.Start();
        var bound = TimeSpan.FromSeconds(Math.Max(60, n / 200));
        var finished = await Task.WhenAny(allSeen.Task, Task.Delay(lead + bound)) == allSeen.Task;
        var cpuPerEvent = cpu.MicrosPer(seen.Count);
        var summary = lags.Summarize();
        report.Add(new Row("feed", (warmUp ? "warm-up, the process's first expiries (cold JIT): " : "")
            + $"{n:N0} bans ending together: end → user.block_expired at an in-process handler", seen.Count, null,
            seen.Count / Math.Max(summary.MaxMs / 1000.0, 1e-9), "events/s", summary, n - seen.Count, cpuPerEvent,
            (finished ? "" : $"only {seen.Count} of {n} within {bound.TotalSeconds:0} s; ") +
            $"throughput = n / max lag; the {n:N0} user.blocked events before them took {blockedSeconds:0.0} s ({Volatile.Read(ref blocked):N0} seen)"));
        var rec = recorded.Summarize();
        var proj = projected.Summarize();
        report.Note($"feed{(warmUp ? " warm-up" : "")} n={n}: end → unban persisted p50 {rec.P50Ms:0} / p99 {rec.P99Ms:0} ms ({ended.Count:N0} seen); "
            + $"end → read by the ledger projection (event time) p50 {proj.P50Ms:0} / p99 {proj.P99Ms:0} ms; "
            + $"end → handler p50 {summary.P50Ms:0} / p99 {summary.P99Ms:0} ms");
        report.Figure($"{key}.recorded_p99_ms", rec.P99Ms);
        report.Figure($"{key}.projected_p99_ms", proj.P99Ms);
        report.Figure($"{key}.p50_ms", summary.P50Ms);
        report.Figure($"{key}.p99_ms", summary.P99Ms);
        report.Figure($"{key}.missing", n - seen.Count);
        if (cpuPerEvent is { } cpuUs) report.Figure($"{key}.cpu_us", cpuUs);
        if (warmUp) return;
        report.Headlines.Add(new Headline($"expiry events for {n:N0} bans ending together, lag p99", $"{summary.P99Ms / 1000:0.00} s", "≤ 1 s",
            summary.P99Ms <= 1000 ? "yes" : "no", null, null));
    }
}
