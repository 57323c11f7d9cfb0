using BanActors.Testing;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Akka.Actor;

namespace BanActors.Bench.Infra;

/// <summary>The bench re-runs itself as a child process for measurements that need a fresh process.</summary>
public static class ChildProcess
{
    public static ProcessStartInfo StartInfo(string mode, params string[] args)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var psi = new ProcessStartInfo(self)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Started through `dotnet BanActors.Bench.dll` (no apphost): pass the dll along.
        if (Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            psi.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        psi.ArgumentList.Add("--child");
        psi.ArgumentList.Add(mode);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["BENCH_AKKA_LOGLEVEL"] = BenchEngine.LogLevel;
        psi.Environment["BENCH_JOURNAL_SYNC"] = BenchEngine.JournalSync;
        return psi;
    }

    /// <summary>GC heap after a full compacting collection, and resident set size, in bytes.</summary>
    public static (long Heap, long Rss) MeasureMemory()
    {
        for (var i = 0; i < 3; i++)
        {
            System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        return (heap, self.WorkingSet64);
    }

    public static async Task<int> RunAsync(string mode, string[] args)
    {
        BenchEngine.LogLevel = Environment.GetEnvironmentVariable("BENCH_AKKA_LOGLEVEL") ?? "WARNING";
        BenchEngine.JournalSync = Environment.GetEnvironmentVariable("BENCH_JOURNAL_SYNC") ?? "FULL";
        switch (mode)
        {
            case "restart":
                return await RestartChild(args[0], int.Parse(args[1], CultureInfo.InvariantCulture));
            case "restart-history":
                return await RestartHistoryChild(args[0], int.Parse(args[1], CultureInfo.InvariantCulture), args[2]);
            case "kestrel":
                return await Scenarios.KestrelCeiling.RunChild(int.Parse(args[0], CultureInfo.InvariantCulture));
            default:
                Console.Error.WriteLine($"unknown child mode {mode}");
                return 2;
        }
    }

    // The engine on a journal with a long history; how the index loaded (from a snapshot or not) comes from the index.
    private static async Task<int> RestartHistoryChild(string db, int expected, string hocon)
    {
        using var self = Process.GetCurrentProcess();
        var processStart = new DateTimeOffset(self.StartTime.ToUniversalTime());
        double SinceStart() => (DateTimeOffset.UtcNow - processStart).TotalMilliseconds;

        await using var host = await BenchEngine.StartAsync(db, extraHocon: hocon);
        await host.Engine.GetStatusAsync(new UserKey("bench", "probe"));
        var engineMs = SinceStart();
        await host.WaitIndexReadyAsync(TimeSpan.FromMinutes(4));
        var readyMs = SinceStart();
        var load = await host.Engine.Actors.Index.Ask<BanActors.Bans.IndexLoadReport>(BanActors.Bans.GetIndexLoadReport.Instance,
            TimeSpan.FromSeconds(30));
        // Pages are at most 1,000 long; the page's total counts every running ban of the app.
        var running = (await host.Engine.ListActiveAsync(SignedHttp.AppKey, 1, 1)).Total;
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            engineMs, readyMs, running, expected, snapshotOffset = load.SnapshotOffset, snapshotBans = load.SnapshotBans,
            eventsRead = load.EventsRead,
        }));
        return 0;
    }

    private static async Task<int> RestartChild(string db, int expected)
    {
        using var self = Process.GetCurrentProcess();
        var processStart = new DateTimeOffset(self.StartTime.ToUniversalTime());
        double SinceStart() => (DateTimeOffset.UtcNow - processStart).TotalMilliseconds;

        await using var host = await BenchEngine.StartAsync(db);
        // "Answering": the engine gives a durable answer to a status question (a user actor recovers from the journal).
        await host.Engine.GetStatusAsync(new UserKey("bench", "probe"));
        var engineMs = SinceStart();
        await host.WaitIndexReadyAsync(TimeSpan.FromMinutes(2));
        var readyMs = SinceStart();
        var running = 0;
        for (var page = 1; ; page++)
        {
            var got = (await host.Engine.ListActiveAsync(SignedHttp.AppKey, page, 10_000)).Bans.Count;
            running += got;
            if (got < 10_000) break;
        }
        var (heap, rss) = MeasureMemory();
        Console.WriteLine(JsonSerializer.Serialize(new { engineMs, readyMs, heapBytes = heap, rssBytes = rss, running, expected }));
        return 0;
    }
}
