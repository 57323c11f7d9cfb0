using System.Diagnostics;
using BanActors.Bench.Infra;
using Microsoft.Data.Sqlite;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Scenario 3a: the ceiling for any SQLite journal on this machine. Raw Microsoft.Data.Sqlite inserts of
/// journal-sized rows (the columns and unique key of Akka.Persistence.Sql's SQLite journal, a 40-byte payload
/// like a serialized UserBanned) into a WAL file, one prepared command, one connection, in transactions of
/// 1, 10, 100 and 1000 rows, with synchronous=FULL (SQLite's default) and NORMAL.
/// </summary>
public sealed class SqliteCeiling : IScenario
{
    public string Name => "ceiling-sqlite";

    public string Title => "3a. Ceiling: raw SQLite WAL inserts";

    public Task RunAsync(BenchOptions options, Report report)
    {
        foreach (var sync in new[] { "FULL", "NORMAL" })
        {
            foreach (var batch in new[] { 1, 10, 100, 1000 })
            {
                var n = batch == 1 ? Math.Min(options.N, 5_000) : options.N * 2;
                var (rowsPerSecond, elapsed, cpu, latencies) = Run(n, batch, sync, options.MaxStep);
                var result = new LoadResult(n, latencies.Count * batch, 0, elapsed, cpu, latencies.Summarize(), null, false);
                report.Add(Row.From("ceiling-sqlite", $"raw insert, {batch}/tx, synchronous={sync}", 1, result, "rows/s",
                    note: "latency = one transaction"));
                report.Figure($"sqlite.{sync.ToLowerInvariant()}.tx{batch}", rowsPerSecond);
            }
        }
        return Task.CompletedTask;
    }

    private static (double, TimeSpan, TimeSpan, Latencies) Run(int n, int batch, string sync, TimeSpan maxDuration)
    {
        using var dir = new TempDir("sqlite");
        var cs = $"Data Source={dir.File("raw.db")}";
        using var connection = new SqliteConnection(cs);
        connection.Open();
        Exec(connection, "PRAGMA journal_mode=WAL;");
        Exec(connection, $"PRAGMA synchronous={sync};");
        Exec(connection, """
            CREATE TABLE journal (
              ordering INTEGER PRIMARY KEY AUTOINCREMENT,
              created INTEGER NOT NULL,
              persistence_id TEXT(255) NOT NULL,
              sequence_number INTEGER NOT NULL,
              deleted INTEGER NOT NULL,
              manifest TEXT(255) NULL,
              payload BLOB NOT NULL,
              identifier INTEGER NULL,
              tags TEXT(100) NULL,
              writer_uuid TEXT(128) NULL,
              UNIQUE (persistence_id, sequence_number));
            """);
        using var insert = connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO journal (created, persistence_id, sequence_number, deleted, manifest, payload, identifier, tags, writer_uuid)
            VALUES ($created, $pid, $seq, 0, 'UB1', $payload, 4711, ';ban;', $writer)
            """;
        var created = insert.Parameters.Add("$created", SqliteType.Integer);
        var pid = insert.Parameters.Add("$pid", SqliteType.Text);
        var seq = insert.Parameters.Add("$seq", SqliteType.Integer);
        var payload = insert.Parameters.Add("$payload", SqliteType.Blob);
        insert.Parameters.AddWithValue("$writer", Guid.NewGuid().ToString("N"));
        var bytes = new byte[40];
        Random.Shared.NextBytes(bytes);
        payload.Value = bytes;
        insert.Prepare();

        var batches = n / batch;
        var latencies = new Latencies(batches);
        var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var start = Stopwatch.GetTimestamp();
        var deadline = start + (long)(maxDuration.TotalSeconds * Stopwatch.Frequency);
        var row = 0;
        for (var b = 0; b < batches && Stopwatch.GetTimestamp() < deadline; b++)
        {
            var t0 = Stopwatch.GetTimestamp();
            using var tx = connection.BeginTransaction();
            insert.Transaction = tx;
            for (var i = 0; i < batch; i++, row++)
            {
                created.Value = DateTime.UtcNow.Ticks;
                pid.Value = $"ban-bench-user{row}";
                seq.Value = 1L;
                insert.ExecuteNonQuery();
            }
            tx.Commit();
            latencies.Add(Stopwatch.GetTimestamp() - t0);
        }
        var elapsed = Stopwatch.GetElapsedTime(start);
        process.Refresh();
        return (row / elapsed.TotalSeconds, elapsed, process.TotalProcessorTime - cpu0, latencies);
    }

    private static void Exec(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
