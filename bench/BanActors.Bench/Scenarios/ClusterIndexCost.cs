using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Journal;
using BanActors.Bans;
using BanActors.Bench.Infra;
using BanActors.Storage;
using BanActors.Testing;
using Npgsql;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Part of the cluster scenario (formerly the separate tool bench/BanActors.Bench.ClusterIndex): what the singleton
/// expiry index costs with N running bans on PostgreSQL — journal rows and size, the time to rebuild the index from
/// the journal (what the surviving node pays when the singleton moves), its heap, and the unpaged block-list query.
/// The N bans are written straight into the journal as the user actors would write them (tagged UserBanned, one
/// persistence id each) but in batches of 1,000, so the set-up takes seconds rather than minutes.
/// </summary>
public static class ClusterIndexCost
{
    public static async Task RunAsync(ThrowawayPostgres pg, int count, Report report, Action<string> step)
    {
        var connectionString = await pg.CreateDatabaseAsync("bench_index");
        var storage = new StorageOptions { Provider = StorageProvider.PostgreSql, ConnectionString = connectionString };
        var config = ConfigurationFactory.ParseString($"""
            akka.loggers = ["BanActors.Bench.Infra.BenchLogger, BanActors.Bench"]
            akka.loglevel = {BenchEngine.LogLevel}
            akka.stdout-loglevel = {BenchEngine.LogLevel}
            """).WithFallback(BanEngineConfig.For(storage));

        var writer = ActorSystem.Create("writer", config);
        TimeSpan wrote;
        try
        {
            wrote = await WriteBansAsync(writer, count);
        }
        finally
        {
            await writer.Terminate();
        }
        var (rows, bytes) = await JournalSizeAsync(connectionString);
        step($"index cost: wrote {count:N0} running bans in {wrote.TotalSeconds:0.0} s; journal {rows:N0} rows, {bytes / 1048576.0:0.0} MiB");

        // A fresh system, as on the node that takes the singleton over.
        var reader = ActorSystem.Create("reader", config);
        try
        {
            var before = GC.GetTotalMemory(forceFullCollection: true);
            var watch = Stopwatch.StartNew();
            var index = reader.ActorOf(ActiveBanIndex.Props(ActorRefs.Nobody, TimeProvider.System, BanEngineConfig.QueryPluginId), "index");
            while (!await index.Ask<bool>(IsIndexReady.Instance, TimeSpan.FromMinutes(10)))
            {
                if (watch.Elapsed > TimeSpan.FromMinutes(10)) throw new TimeoutException("the index did not rebuild within 10 minutes");
                await Task.Delay(50);
            }
            var rebuilt = watch.Elapsed;
            var after = GC.GetTotalMemory(forceFullCollection: true);

            const int queries = 20;
            var list = new Latencies(queries);
            for (var i = 0; i < queries; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                await index.Ask<ActiveBanPage>(new ListActiveBans("app1", 0, 0), TimeSpan.FromSeconds(30));
                list.Add(Stopwatch.GetTimestamp() - t0);
            }
            var perBan = (after - before) / (double)count;
            report.Add(new Row("cluster", $"index cost: rebuild the expiry index from {count:N0} running bans in the PostgreSQL journal (fresh actor system)",
                count, null, count / Math.Max(rebuilt.TotalSeconds, 1e-9), "bans/s", null, 0, null,
                $"rebuilt in {rebuilt.TotalSeconds:0.00} s; heap +{(after - before) / 1048576.0:0.0} MiB ({perBan:0} bytes per running ban) on the singleton's node; "
                + $"journal {rows:N0} rows, {bytes / 1048576.0:0.0} MiB with indexes (written in batches of 1,000 in {wrote.TotalSeconds:0.0} s)"));
            report.Add(new Row("cluster", $"index cost: unpaged block list (first {BanRules.MaxPageSize:N0} of {count:N0}), asked of the index",
                list.Count, 1, null, "", list.Summarize(), 0, null, null));
            report.Figure("cluster.index.n", count);
            report.Figure("cluster.index.rebuild_ms", rebuilt.TotalMilliseconds);
            report.Figure("cluster.index.heap_bytes_per_ban", perBan);
            report.Figure("cluster.index.journal_bytes", bytes);
            report.Figure("cluster.index.list_p50_ms", list.Summarize().P50Ms);
        }
        finally
        {
            await reader.Terminate();
            NpgsqlConnection.ClearAllPools();
        }
    }

    private static async Task<TimeSpan> WriteBansAsync(ActorSystem system, int count)
    {
        var journal = Persistence.Instance.Apply(system).JournalFor(BanEngineConfig.JournalPluginId);
        var inbox = Inbox.Create(system);
        var now = DateTimeOffset.UtcNow;
        var watch = Stopwatch.StartNew();
        for (var start = 0; start < count; start += 1000)
        {
            var batch = Enumerable.Range(start, Math.Min(1000, count - start)).Select(i =>
            {
                var user = new UserKey("app1", $"user-{i}");
                var banned = new UserBanned(user, now, now.AddMinutes(1 + i % BanRules.MaxMinutes));
                return (IPersistentEnvelope)new AtomicWrite(new Persistent(new Tagged(banned, new[] { BanTags.Ban }), 1,
                    user.PersistenceId, writerGuid: "bench"));
            }).ToList();
            journal.Tell(new WriteMessages(batch, inbox.Receiver, 1), inbox.Receiver);
            for (var confirmed = 0; confirmed < batch.Count;)
            {
                switch (await inbox.ReceiveAsync(TimeSpan.FromMinutes(1)))
                {
                    case WriteMessageSuccess: confirmed++; break;
                    case WriteMessageFailure failure: throw failure.Cause;
                    case WriteMessagesFailed failed: throw failed.Cause;
                }
            }
        }
        return watch.Elapsed;
    }

    private static async Task<(long Rows, long Bytes)> JournalSizeAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*), pg_total_relation_size('event_journal') FROM event_journal", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
