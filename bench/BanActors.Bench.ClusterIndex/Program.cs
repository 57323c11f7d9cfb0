// What the singleton expiry index costs with N running bans (cluster mode's node-loss design): journal rows and size,
// the time to rebuild the index from the journal (what a surviving node pays when the singleton moves), its heap, and
// the unpaged block-list query. Not run by `dotnet test`.
//
//   dotnet run -c Release --project bench/BanActors.Bench.ClusterIndex -- "Host=127.0.0.1;Port=54329;Username=postgres;Database=postgres" 100000
//
// The connection string must reach a PostgreSQL 15+ server (scripts/cluster-demo.sh starts one on port 54329); the
// tool creates, uses and drops its own database.
using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Journal;
using BanActors.Bans;
using BanActors.Storage;
using Npgsql;

if (args.Length < 1)
{
    Console.Error.WriteLine("usage: <admin connection string> [running bans, default 100000]");
    return 2;
}
var admin = args[0];
var count = args.Length > 1 ? int.Parse(args[1]) : 100_000;
var database = "banactors_bench_" + Guid.NewGuid().ToString("N")[..8];
await Sql(admin, $"CREATE DATABASE {database}");
var connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = database }.ConnectionString;
try
{
    var storage = new StorageOptions { Provider = StorageProvider.PostgreSql, ConnectionString = connectionString };
    var config = ConfigurationFactory.ParseString("akka.loglevel = WARNING").WithFallback(BanEngineConfig.For(storage));

    var writer = ActorSystem.Create("writer", config);
    var wrote = await WriteBansAsync(writer, count);
    await writer.Terminate();
    Console.WriteLine($"wrote {count:N0} running bans through the journal in {wrote.TotalSeconds:0.0} s (batches of 1,000)");

    var (rows, bytes) = await JournalSizeAsync(connectionString);
    Console.WriteLine($"journal: {rows:N0} rows, {bytes / 1024.0 / 1024.0:0.0} MiB with indexes");

    // A fresh system, as on the node that takes the singleton over.
    var reader = ActorSystem.Create("reader", config);
    GC.Collect();
    GC.WaitForPendingFinalizers();
    var before = GC.GetTotalMemory(forceFullCollection: true);
    var watch = Stopwatch.StartNew();
    var index = reader.ActorOf(ActiveBanIndex.Props(ActorRefs.Nobody, TimeProvider.System, BanEngineConfig.QueryPluginId,
        followJournal: true), "index");
    while (!await index.Ask<bool>(IsIndexReady.Instance, TimeSpan.FromMinutes(10)))
        await Task.Delay(50);
    var rebuilt = watch.Elapsed;
    var after = GC.GetTotalMemory(forceFullCollection: true);
    Console.WriteLine($"index rebuilt from the journal in {rebuilt.TotalSeconds:0.00} s; heap +{(after - before) / 1024.0 / 1024.0:0.0} MiB " +
                      $"({(after - before) / (double)count:0} bytes per running ban)");

    watch.Restart();
    const int queries = 20;
    for (var i = 0; i < queries; i++) await index.Ask<ActiveBanPage>(new ListActiveBans("app1", 0, 0));
    Console.WriteLine($"unpaged block list (first 1,000 of {count:N0}): {watch.Elapsed.TotalMilliseconds / queries:0} ms per query");
    await reader.Terminate();
}
finally
{
    NpgsqlConnection.ClearAllPools();
    await Sql(admin, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
}
return 0;

static async Task<TimeSpan> WriteBansAsync(ActorSystem system, int count)
{
    // Written as the user actors would write them (tagged UserBanned, one persistence id each), but batched, so the
    // set-up takes seconds rather than minutes.
    var journal = Persistence.Instance.Apply(system).JournalFor(BanEngineConfig.JournalPluginId);
    var inbox = Inbox.Create(system);
    var now = DateTimeOffset.UtcNow;
    var watch = Stopwatch.StartNew();
    for (var start = 0; start < count; start += 1000)
    {
        var batch = Enumerable.Range(start, Math.Min(1000, count - start)).Select(i =>
        {
            var user = new UserKey("app1", $"user-{i}");
            var banned = new UserBanned(user, now, now.AddMinutes(1 + i % BanLimits.MaxMinutes));
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

static async Task<(long Rows, long Bytes)> JournalSizeAsync(string connectionString)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    await using var command = new NpgsqlCommand(
        "SELECT count(*), pg_total_relation_size('event_journal') FROM event_journal", connection);
    await using var reader = await command.ExecuteReaderAsync();
    await reader.ReadAsync();
    return (reader.GetInt64(0), reader.GetInt64(1));
}

static async Task Sql(string connectionString, string sql)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    await using var command = new NpgsqlCommand(sql, connection);
    await command.ExecuteNonQueryAsync();
}
