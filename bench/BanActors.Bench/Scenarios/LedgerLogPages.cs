using System.Diagnostics;
using BanActors.Bans;
using BanActors.Bench.Infra;
using BanActors.Storage;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Issue 10: a page of the app-wide ledger (<c>/user/block/log.json</c>) over 1,000,000 entries. The ledger table is
/// filled directly (the projection's own insert, in batches) with a realistic mix: 90% of the entries in the queried
/// app, 10,000 users, 20 operators, blocks, unblocks and expiries one second apart; then each kind of page is asked
/// 200 times (newest, deep cursors, each filter, the largest page) and timed end to end through the store's query.
/// </summary>
public sealed class LedgerLogPages : IScenario
{
    public string Name => "ledger-log";

    public string Title => "10. The app-wide ledger: a page over 1,000,000 entries";

    public async Task RunAsync(BenchOptions options, Report report)
    {
        var entries = options.Count("ledger-entries", 1_000_000, 200_000);
        using var dir = new TempDir("ledger");
        var storage = new StorageOptions { Provider = StorageProvider.Sqlite, ConnectionString = $"Data Source={dir.File("bans.db")}" };
        var store = new LedgerStore(storage);
        await store.InitializeAsync(CancellationToken.None);

        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var random = new Random(10);
        var fill = Stopwatch.StartNew();
        const int Batch = 10_000;
        for (var at = 0; at < entries; at += Batch)
        {
            var rows = new List<LedgerStore.Row>(Batch);
            for (var i = at; i < Math.Min(entries, at + Batch); i++)
            {
                var app = random.Next(10) == 0 ? "other" : "main";
                var user = new UserKey(app, "u" + random.Next(10_000));
                var time = start.AddSeconds(i);
                var roll = random.Next(10);
                var entry = roll < 6
                    ? new BanHistoryEntry(BanAction.Block, time, 10, time.AddMinutes(10), "spam", "op" + random.Next(20))
                    : roll < 8 ? new BanHistoryEntry(BanAction.Unblock, time, Operator: "op" + random.Next(20))
                    : new BanHistoryEntry(BanAction.Expire, time);
                rows.Add(new LedgerStore.Row(i + 1, user, entry, time));
            }
            await store.AddAsync(rows, CancellationToken.None);
        }
        report.Note($"ledger-log: {entries:N0} entries written in {fill.Elapsed.TotalSeconds:0.0} s " +
                    $"({entries / fill.Elapsed.TotalSeconds:N0}/s in batches of {Batch:N0}), files {Directory.GetFiles(dir.Path, "*.db*").Sum(f => new FileInfo(f).Length) / 1_048_576.0:0} MB");

        var end = start.AddSeconds(entries);
        var cases = new (string Case, Func<Random, (BanLogQuery Query, long? Before)> Page)[]
        {
            ("newest 50", _ => (new BanLogQuery(), null)),
            ("50 from a random cursor", r => (new BanLogQuery(), r.Next(1, entries))),
            ("operator filter, 50", r => (new BanLogQuery(Operator: "op" + r.Next(20)), null)),
            ("user filter, 50", r => (new BanLogQuery(UserId: "u" + r.Next(10_000)), null)),
            ("action=unblock, 50", _ => (new BanLogQuery(Action: BanAction.Unblock), null)),
            ("from/to one hour, mid-history, 50", r =>
            {
                var from = start.AddSeconds(r.Next(entries - 3600));
                return (new BanLogQuery(From: from, To: from.AddHours(1)), null);
            }),
            ("to = a day in, 50 (old end of the history)", _ => (new BanLogQuery(To: start.AddDays(1)), null)),
            ("1,000 (the largest page)", _ => (new BanLogQuery(Size: 1000), null)),
        };
        var worst = 0.0;
        foreach (var (name, page) in cases)
        {
            var latencies = new Latencies(200);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var wall = Stopwatch.StartNew();
            var returned = 0;
            for (var i = 0; i < 200 && wall.Elapsed < options.MaxStep; i++)
            {
                var (query, before) = page(random);
                var t = Stopwatch.GetTimestamp();
                var result = await store.QueryAsync("main", query, before, CancellationToken.None);
                latencies.Add(Stopwatch.GetTimestamp() - t);
                returned += result.Entries.Count;
            }
            var summary = latencies.Summarize();
            worst = Math.Max(worst, summary.P99Ms);
            var result2 = new LoadResult(200, latencies.Count, 0, wall.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu,
                summary, null, latencies.Count < 200);
            report.Add(Row.From("ledger-log", name, 1, result2, "pages/s", note: $"{returned / Math.Max(1, latencies.Count)} entries a page"));
            Console.WriteLine($"   {name}: p50 {summary.P50Ms:0.00} ms, p99 {summary.P99Ms:0.00} ms, max {summary.MaxMs:0.00} ms");
        }
        report.Figure("ledger.log.page.p99.worst", worst);
        report.Headlines.Add(new Headline("a ledger page over 1,000,000 entries, p99 (worst kind of page)", $"{worst:0.0} ms", "≤ 50 ms",
            worst <= 50 ? "yes" : "no", null, null));
    }
}
