using BanActors.Testing;
using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using BanActors.Bans;
using BanActors.Bench.Infra;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Scenario 5: N bans that end at the same instant. Method: the engine runs on a <see cref="ControlledClock"/>
/// that is frozen while the N one-minute bans are made (so every ban ends at exactly the same instant E), then
/// set to E − 2 s and left to run in real time; the engine's timers are re-armed on that jump, so from then on
/// it is indistinguishable from a wall clock. Lag = when <see cref="BanEnded"/> (Expired) is seen on the
/// event stream (it is published after <c>UserUnbanned</c> is persisted) minus E. From E on, "is banned?" is
/// asked of a sample of users (and the block list), and must answer "not banned".
/// </summary>
public sealed class UnbanTimeliness : IScenario
{
    public string Name => "unban";

    public string Title => "5. Unban timeliness (bans ending in the same second)";

    /// <summary>Counts Akka error log events (e.g. failed persists) by the type of their cause.</summary>
    private sealed class ErrorCounter(ConcurrentDictionary<string, int> counts) : UntypedActor
    {
        protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(Akka.Event.Error));

        protected override void OnReceive(object message)
        {
            if (message is Akka.Event.Error e)
                counts.AddOrUpdate(e.Cause?.GetType().Name ?? "no exception", 1, (_, c) => c + 1);
        }
    }

    public async Task RunAsync(BenchOptions options, Report report)
    {
        // A server that has run for a while has its expiry path compiled to the JIT's final tier; a fresh process
        // has not, and its first burst pays for tiered compilation (measured: about half the CPU of that burst).
        // So a smaller burst goes first, reported on its own as the cold figure, and the timed rounds follow.
        if (options.UnbanWarmUp > 0) await RunOnce(options.UnbanWarmUp, options, report, warmUp: true);
        foreach (var n in options.UnbanN) await RunOnce(n, options, report);
    }

    private async Task RunOnce(int n, BenchOptions options, Report report, bool warmUp = false)
    {
        var key = warmUp ? $"unban.warmup.n{n}" : $"unban.n{n}";
        using var dir = new TempDir(Name);
        var frozenAt = new DateTimeOffset(DateTimeOffset.UtcNow.Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
        var clock = new ControlledClock();
        clock.Freeze(frozenAt);
        await using var host = await BenchEngine.StartAsync(dir.File("bans.db"), clock);
        await host.WaitIndexReadyAsync(TimeSpan.FromSeconds(30));
        var engine = host.Engine;
        const string app = "bench";

        var endTicks = 0L;
        var lags = new Latencies(n);
        var seen = new SeenSet();
        var wrongCause = 0;
        var allSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Action<BanEnded> onEnded = e =>
        {
            if (e.Cause != UnbanCause.Expired) { Interlocked.Increment(ref wrongCause); return; }
            if (!seen.TryAdd(e.User.UserId)) return;
            lags.Add(Stopwatch.GetTimestamp() - Volatile.Read(ref endTicks));
            if (seen.Count >= n) allSeen.TrySetResult();
        };
        host.System.ActorOf(Props.Create(() => new EndedObserver(onEnded)), "ended-observer");

        var errors = new ConcurrentDictionary<string, int>();
        host.System.ActorOf(Props.Create(() => new ErrorCounter(errors)), "error-counter");

        var bans = await Load.RunAsync(n, 256, TimeSpan.FromSeconds(Math.Max(120, n / 100)),
            i => engine.BanAsync(new UserKey(app, $"e{i}"), 1));
        report.Add(Row.From("unban", $"set-up: {n:N0} one-minute bans (first bans)", 256, bans, "bans/s"));
        if (bans.Failures > 0 || bans.Completed < n)
        {
            report.Skip($"unban n={n}", $"only {bans.Completed} of {n} set-up bans succeeded ({bans.FirstError})");
            return;
        }
        // The bans were made a minute before they end (on the engine's clock), time in which the ledger's projection
        // reads them: so it has read them here too before the clock runs, not in the middle of the expiries.
        var settled = await Wait.UntilAsync(() => LedgerFile.Entries(dir.File("bans.db")) >= n, TimeSpan.FromSeconds(Math.Max(60, n / 100)));
        report.Note($"unban n={n}{(warmUp ? " (warm-up)" : "")}: the ledger's projection read the {n:N0} bans {settled.TotalSeconds:0.0} s after the set-up");
        var end = frozenAt.AddMinutes(1);

        // Before the end: a sample must still be banned (sanity check of the set-up).
        var sample = Enumerable.Range(0, Math.Min(n, 1_000)).Select(i => i * (n / Math.Min(n, 1_000))).ToArray();
        var lead = TimeSpan.FromSeconds(2);
        Volatile.Write(ref endTicks, Stopwatch.GetTimestamp() + (long)(lead.TotalSeconds * Stopwatch.Frequency));
        clock.RunFrom(end - lead);
        var cpu = CpuSpan.Start();
        var before = 0;
        foreach (var i in sample.Take(100))
            if ((await engine.GetStatusAsync(new UserKey(app, $"e{i}"))).IsBanned) before++;
        errors.Clear();

        // From the end on: every answer must be "not banned", while the expiries are being written.
        var wait = clock.GetUtcNow() - end;
        if (wait < TimeSpan.Zero) await Task.Delay(-wait);
        while (clock.GetUtcNow() < end) await Task.Yield();
        var statusLatency = new Latencies(sample.Length);
        var stillBanned = 0;
        var unanswered = 0;
        await Task.WhenAll(sample.Select(async i =>
        {
            var t0 = Stopwatch.GetTimestamp();
            try
            {
                var status = await engine.GetStatusAsync(new UserKey(app, $"e{i}"));
                statusLatency.Add(Stopwatch.GetTimestamp() - t0);
                if (status.IsBanned) Interlocked.Increment(ref stillBanned);
            }
            catch (Exception)
            {
                Interlocked.Increment(ref unanswered);
            }
        }));
        int? listed = null;
        try
        {
            listed = (await engine.ListActiveAsync(app, 0, 0)).Bans.Count;
        }
        catch (Exception) { }

        var bound = TimeSpan.FromSeconds(Math.Max(60, n / 500));
        var finished = await Task.WhenAny(allSeen.Task, Task.Delay(bound)) == allSeen.Task;
        var cpuPerExpiry = cpu.MicrosPer(seen.Count);
        var summary = lags.Summarize();
        var errorText = errors.IsEmpty ? "no Akka errors logged"
            : "Akka errors logged during the expiries: " + string.Join(", ", errors.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Value:N0}× {kv.Key}"));
        report.Add(new Row("unban", (warmUp ? "warm-up, the process's first expiries (cold JIT): " : "")
            + $"{n:N0} bans ending at the same instant: end → UserUnbanned(Expired) persisted",
            seen.Count, null, seen.Count / Math.Max(summary.MaxMs / 1000.0, 1e-9), "unbans/s", summary,
            n - seen.Count + wrongCause,
            cpuPerExpiry,
            (finished ? "" : $"only {seen.Count} of {n} seen within {bound.TotalSeconds:0} s; ")
            + $"throughput = n / max lag; {errorText}; \"is banned\" from the end time: {stillBanned} of {sample.Length} sampled users answered banned, "
            + $"{unanswered} did not answer within the ask timeout "
            + $"(answers p50 {statusLatency.Summarize().P50Ms:0.#} ms, p99 {statusLatency.Summarize().P99Ms:0.#} ms); "
            + $"block list right after the end: {(listed is { } l ? $"{l} entries" : "no answer")}; 2 s before the end {before} of 100 sampled were banned"));
        report.Figure($"{key}.errors", errors.Values.Sum());
        report.Figure($"{key}.status_unanswered", unanswered);
        report.Figure($"{key}.p50_ms", summary.P50Ms);
        report.Figure($"{key}.p99_ms", summary.P99Ms);
        report.Figure($"{key}.max_ms", summary.MaxMs);
        if (cpuPerExpiry is { } cpuUs) report.Figure($"{key}.cpu_us", cpuUs);
        report.Figure($"{key}.still_banned", stillBanned);
        report.Figure($"{key}.listed_after_end", listed ?? -1);
        report.Figure($"{key}.missing", n - seen.Count);
    }
}
