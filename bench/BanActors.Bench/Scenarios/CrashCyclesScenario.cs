using System.Globalization;
using BanActors.Bench.Infra;
using BanActors.Testing;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Issue 14: the long version of <c>CrashCycleSpecs</c>. The real server under concurrent signed bans and unbans,
/// killed with SIGKILL mid-load and restarted on the same SQLite file, N times (<see cref="CrashCycles"/>). Reported:
/// acknowledged bans and unbans, changes lost (acknowledged but not listed as acknowledged after the restart; must be
/// 0), and per restart the time to <c>/healthz</c> 200, to the first 200, and the latency of the first 32 concurrent
/// bans sent right after <c>/healthz</c> (and of the 32 after those, for comparison).
/// </summary>
public sealed class CrashCyclesScenario : IScenario
{
    public string Name => "crash-cycles";

    public string Title => "Crash cycles (SIGKILL under load, restart, every acknowledged change checked)";

    public async Task RunAsync(BenchOptions options, Report report)
    {
        var count = options.Count("crash-cycles", 20, 5);
        var inFlight = options.Count("crash-in-flight", 24, 24);
        var load = TimeSpan.FromSeconds(options.Count("crash-load-seconds", 3, 3));
        using var dir = new TempDir(Name);
        var cycles = new CrashCycles(dir.Path, ServerChild.FreePort(), inFlight, load, line => Console.WriteLine("  " + line));
        var results = new List<CrashCycleResult>();
        var server = await cycles.StartAsync();
        try
        {
            for (var cycle = 1; cycle <= count; cycle++)
            {
                (server, var result) = await cycles.RunCycleAsync(cycle, server);
                results.Add(result);
            }
        }
        finally
        {
            server.Dispose();
        }

        var bans = results.Sum(r => r.AcknowledgedBans);
        var unbans = results.Sum(r => r.AcknowledgedUnbans);
        var lost = results.Sum(r => r.Mismatches.Count);
        var healthy = Summarize(results.Select(r => r.Healthy.TotalMilliseconds));
        var first = Summarize(results.Select(r => r.FirstAcknowledged.TotalMilliseconds));
        var firstRequests = Summarize(results.SelectMany(r => r.FirstRequests).Select(t => t.TotalMilliseconds));
        var nextRequests = Summarize(results.SelectMany(r => r.NextRequests).Select(t => t.TotalMilliseconds));
        report.Add(new Row(Name, $"{count} cycles of {load.TotalSeconds:0} s load, SIGKILL, restart: acknowledged ban / unban requests",
            bans + unbans, inFlight, null, "", null, lost, null,
            string.Create(CultureInfo.InvariantCulture,
                $"{bans:N0} bans and {unbans:N0} unbans acknowledged, {results.Sum(r => r.Unanswered):N0} cut off by the kill, "
                + $"{results.Sum(r => r.ErrorAnswers)} error answers; lost or not as acknowledged after a restart: {lost}; "
                + $"{cycles.Users:N0} users, {results[^1].Listed:N0} listed at the end")));
        report.Add(new Row(Name, "restart: process start → /healthz 200 (ms, one sample per restart)", count, null, null, "", healthy, 0, null));
        report.Add(new Row(Name, "restart: process start → first 200 of a ban (ms)", count, null, null, "", first, 0, null));
        report.Add(new Row(Name, $"restart: latency of the first {CrashCycles.FirstRequestCount} concurrent bans after /healthz (ms)",
            firstRequests.Samples, CrashCycles.FirstRequestCount, null, "", firstRequests, 0, null));
        report.Add(new Row(Name, $"restart: the next {CrashCycles.FirstRequestCount} concurrent bans, right after those (ms)",
            nextRequests.Samples, CrashCycles.FirstRequestCount, null, "", nextRequests, 0, null));
        report.Figure("crash.acknowledged_bans", bans);
        report.Figure("crash.acknowledged_unbans", unbans);
        report.Figure("crash.lost", lost);
        report.Figure("crash.healthz_p50_ms", healthy.P50Ms);
        report.Figure("crash.first_200_p50_ms", first.P50Ms);
        report.Figure("crash.first_requests_p50_ms", firstRequests.P50Ms);
        report.Figure("crash.first_requests_max_ms", firstRequests.MaxMs);
        report.Figure("crash.next_requests_p50_ms", nextRequests.P50Ms);
    }

    private static LatencySummary Summarize(IEnumerable<double> ms)
    {
        var samples = ms.ToList();
        var latencies = new Latencies(samples.Count);
        foreach (var m in samples) latencies.AddMs(m);
        return latencies.Summarize();
    }
}
