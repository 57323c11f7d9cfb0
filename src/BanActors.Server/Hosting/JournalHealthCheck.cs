using BanActors.Hosting;
using BanActors.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace BanActors.Server.Hosting;

/// <summary>
/// Whether the journal's store can take a write now: for SQLite, takes the write lock and rolls back at once;
/// for PostgreSQL, asks the server whether it accepts writes. Gives up after <see cref="Timeout"/>.
/// </summary>
public sealed class JournalHealthCheck(BanEngineOptions engine, Akka.Actor.ActorSystem system) : IHealthCheck
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // A fault that a probe can miss (a full disk) still shows: the journal's own writes fail.
        if (JournalWriteMonitor.Get(system).Failing is { } failing)
            return HealthCheckResult.Unhealthy($"the journal's last write failed: {failing}");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            return engine.Storage.Provider switch
            {
                StorageProvider.Sqlite => await ProbeSqliteAsync(engine.Storage.ConnectionString, timeout.Token),
                StorageProvider.PostgreSql => await ProbePostgresAsync(engine.Storage.ConnectionString, timeout.Token),
                _ => HealthCheckResult.Unhealthy("unknown storage provider"),
            };
        }
        catch (Exception ex) when (ex is SqliteException or NpgsqlException or OperationCanceledException or TimeoutException
                                       or InvalidOperationException)
        {
            // The message only: a connection string (and its password) never goes into the answer.
            return HealthCheckResult.Unhealthy($"the journal is unreachable: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private static async Task<HealthCheckResult> ProbeSqliteAsync(string connectionString, CancellationToken cancellationToken)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString)
        {
            // The file was made by the journal at start; a missing file means the store is gone, not "create it".
            Mode = SqliteOpenMode.ReadWrite,
            DefaultTimeout = (int)Timeout.TotalSeconds,
        };
        await using var connection = new SqliteConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // BEGIN IMMEDIATE takes the write lock (waiting up to the timeout while another writer holds it).
        command.CommandText = "BEGIN IMMEDIATE; SELECT count(*) FROM sqlite_master; ROLLBACK;";
        await command.ExecuteScalarAsync(cancellationToken);
        return HealthCheckResult.Healthy("sqlite: writable");
    }

    private static async Task<HealthCheckResult> ProbePostgresAsync(string connectionString, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Timeout = (int)Timeout.TotalSeconds,
            CommandTimeout = (int)Timeout.TotalSeconds,
        };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT pg_is_in_recovery()", connection);
        var readOnly = await command.ExecuteScalarAsync(cancellationToken) is true;
        return readOnly
            ? HealthCheckResult.Unhealthy("postgresql: read-only (in recovery)")
            : HealthCheckResult.Healthy("postgresql: writable");
    }
}
