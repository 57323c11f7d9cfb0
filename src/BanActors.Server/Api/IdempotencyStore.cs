using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace BanActors.Server.Api;

/// <summary>
/// Safe retries for the changing endpoints: the answer to a request with an <c>Idempotency-Key</c> header, kept per
/// app for <see cref="Retention"/> in the journal's own database (table <c>api_idempotency</c>), so a retry after a
/// timeout or a restart gets the first answer and changes nothing.
/// </summary>
/// <remarks>
/// Only a success is kept: a 1000 (nothing stored) is worth retrying for real. A request whose process died between
/// the change and keeping its answer runs again when retried; for a ban that sets its end time once more.
/// </remarks>
internal sealed class IdempotencyStore(StorageOptions storage, TimeProvider clock)
{
    public const string HeaderName = "Idempotency-Key";
    public const int MaxKeyLength = 128;
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    // The same SQL on SQLite and PostgreSQL (both take @name parameters and ON CONFLICT ... DO UPDATE ... WHERE).
    private const string Create = """
        CREATE TABLE IF NOT EXISTS api_idempotency (
            app_key TEXT NOT NULL, idem_key TEXT NOT NULL, fingerprint TEXT NOT NULL, created_ms BIGINT NOT NULL,
            PRIMARY KEY (app_key, idem_key))
        """;

    private const string Select =
        "SELECT fingerprint FROM api_idempotency WHERE app_key = @app AND idem_key = @key AND created_ms >= @since";

    private const string Upsert = """
        INSERT INTO api_idempotency (app_key, idem_key, fingerprint, created_ms) VALUES (@app, @key, @fp, @now)
        ON CONFLICT (app_key, idem_key) DO UPDATE SET fingerprint = excluded.fingerprint, created_ms = excluded.created_ms
        WHERE api_idempotency.created_ms < @since
        """;

    private readonly SemaphoreSlim _createOnce = new(1, 1);
    private volatile bool _created;

    /// <summary>What a request with this key has seen before.</summary>
    public enum Seen
    {
        /// <summary>Never (or more than <see cref="Retention"/> ago): run it.</summary>
        New,

        /// <summary>The same request succeeded: answer as the first time and change nothing.</summary>
        Same,

        /// <summary>The key was used for other parameters: refuse.</summary>
        Conflict,
    }

    /// <summary>A digest of the path and every form field (values of a repeated field in any order).</summary>
    public static string Fingerprint(string path, IFormCollection form)
    {
        var text = new StringBuilder(path);
        foreach (var field in form.OrderBy(f => f.Key, StringComparer.Ordinal))
        foreach (var value in field.Value.Order(StringComparer.Ordinal))
            text.Append('\n').Append(field.Key).Append('=').Append(value);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public async Task<Seen> LookUpAsync(string appKey, string key, string fingerprint, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, Select, appKey, key);
        var stored = await command.ExecuteScalarAsync(cancellationToken) as string;
        return stored is null ? Seen.New : stored == fingerprint ? Seen.Same : Seen.Conflict;
    }

    public async Task RememberAsync(string appKey, string key, string fingerprint, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, Upsert, appKey, key);
        Add(command, "@fp", fingerprint);
        Add(command, "@now", clock.GetUtcNow().ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private DbCommand Command(DbConnection connection, string sql, string appKey, string key)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        Add(command, "@app", appKey);
        Add(command, "@key", key);
        Add(command, "@since", (clock.GetUtcNow() - Retention).ToUnixTimeMilliseconds());
        return command;
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        DbConnection connection = storage.Provider == StorageProvider.PostgreSql
            ? new NpgsqlConnection(storage.ConnectionString)
            : new SqliteConnection(storage.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        if (_created) return connection;
        await _createOnce.WaitAsync(cancellationToken);
        try
        {
            if (!_created)
            {
                await using var create = connection.CreateCommand();
                create.CommandText = Create;
                await create.ExecuteNonQueryAsync(cancellationToken);
                _created = true;
            }
        }
        finally
        {
            _createOnce.Release();
        }
        return connection;
    }
}
