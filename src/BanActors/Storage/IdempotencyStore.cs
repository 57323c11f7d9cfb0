using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Event;

namespace BanActors.Storage;

/// <summary>
/// Safe retries: the answer to a change made with an idempotency key, kept per app for <see cref="Retention"/> in the
/// journal's own database (table <c>api_idempotency</c>), so a retry after a timeout or a restart gets the first answer
/// and changes nothing. The facade keys each ban and unban (<see cref="BanDetails.IdempotencyKey"/>); the server also
/// keys its whole block and unblock requests, in the same table.
/// </summary>
/// <remarks>
/// Only a success is kept: a failure (nothing stored) is worth retrying for real. Two calls with one key at the same
/// moment both run, and a change whose process died between the change and keeping its answer runs again when
/// retried; for a ban that sets its end time once more.
/// </remarks>
internal sealed class IdempotencyStore(StorageOptions storage, TimeProvider clock, ILoggingAdapter log)
{
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    // The same SQL on SQLite and PostgreSQL (both take @name parameters and ON CONFLICT ... DO UPDATE ... WHERE).
    private const string Create = """
        CREATE TABLE IF NOT EXISTS api_idempotency (
            app_key TEXT NOT NULL, idem_key TEXT NOT NULL, fingerprint TEXT NOT NULL, created_ms BIGINT NOT NULL,
            answer BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (app_key, idem_key))
        """;

    // The server's first version of the table kept no answers (every answer was {"code":200}).
    private const string HasAnswer = "SELECT answer FROM api_idempotency WHERE 1 = 0";

    private const string AddAnswer = "ALTER TABLE api_idempotency ADD COLUMN answer BIGINT NOT NULL DEFAULT 0";

    private const string Select =
        "SELECT fingerprint, answer FROM api_idempotency WHERE app_key = @app AND idem_key = @key AND created_ms >= @since";

    private const string Upsert = """
        INSERT INTO api_idempotency (app_key, idem_key, fingerprint, created_ms, answer) VALUES (@app, @key, @fp, @now, @answer)
        ON CONFLICT (app_key, idem_key) DO UPDATE
        SET fingerprint = excluded.fingerprint, created_ms = excluded.created_ms, answer = excluded.answer
        WHERE api_idempotency.created_ms < @since
        """;

    private readonly SemaphoreSlim _createOnce = new(1, 1);
    private volatile bool _created;

    /// <summary>The store of the engine running in <paramref name="system"/>, on its storage and clock.</summary>
    public static IdempotencyStore For(StorageOptions storage, TimeProvider clock, ActorSystem system) =>
        new(storage, clock, Logging.GetLogger(system, typeof(IdempotencyStore)));

    /// <summary>A digest of the parts of a request, in order; a null part differs from an empty one.</summary>
    public static string Fingerprint(params ReadOnlySpan<string?> parts)
    {
        var text = new StringBuilder();
        foreach (var part in parts)
        {
            if (part is null) text.Append('-');
            else text.Append(part.Length).Append(':').Append(part);
            text.Append('\n');
        }
        return Digest(text.ToString());
    }

    /// <summary>SHA-256 of <paramref name="text"/>, as hex.</summary>
    public static string Digest(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>
    /// Runs <paramref name="change"/> unless <paramref name="key"/> was used by <paramref name="appKey"/> within
    /// <see cref="Retention"/>: for the same <paramref name="fingerprint"/> the first answer is rebuilt by
    /// <paramref name="replay"/> from what <paramref name="answer"/> kept; for another one the call is rejected. Without
    /// a key the change simply runs.
    /// </summary>
    /// <param name="keyName">How the caller names the key, for the rejection's message.</param>
    /// <exception cref="BanRequestRejectedException">The key was used with other parameters.</exception>
    /// <exception cref="BanEngineUnavailableException">The kept answers could not be read.</exception>
    public async Task<T> OnceAsync<T>(string appKey, string? key, string fingerprint, Func<Task<T>> change,
        Func<T, long> answer, Func<long, T> replay, string keyName, CancellationToken cancellationToken)
    {
        if (key is null) return await change();
        (string Fingerprint, long Answer)? seen;
        try
        {
            seen = await LookUpAsync(appKey, key, cancellationToken);
        }
        catch (DbException ex)
        {
            throw new BanEngineUnavailableException($"the idempotency keys could not be read: {ex.Message}", ex);
        }
        if (seen is { } first)
        {
            return first.Fingerprint == fingerprint
                ? replay(first.Answer)
                : throw new BanRequestRejectedException($"this {keyName} was used for a request with other parameters");
        }

        var result = await change();
        try
        {
            await RememberAsync(appKey, key, fingerprint, answer(result), CancellationToken.None);
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException)
        {
            // The change is durable; only a retry's protection is missing. Failing now would make the caller retry.
            log.Warning(ex, "The answer for an idempotency key of {AppKey} could not be kept", appKey);
        }
        return result;
    }

    private async Task<(string Fingerprint, long Answer)?> LookUpAsync(string appKey, string key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, Select, appKey, key);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetString(0), reader.GetInt64(1)) : null;
    }

    private async Task RememberAsync(string appKey, string key, string fingerprint, long answer, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, Upsert, appKey, key);
        Add(command, "@fp", fingerprint);
        Add(command, "@now", clock.GetUtcNow().ToUnixTimeMilliseconds());
        Add(command, "@answer", answer);
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

    private static void Add(DbCommand command, string name, object value) => Sql.Add(command, name, value);

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = await Sql.OpenAsync(storage.Provider, storage.ConnectionString, cancellationToken);
        try
        {
            if (!_created) await CreateOnceAsync(connection, cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private async Task CreateOnceAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await _createOnce.WaitAsync(cancellationToken);
        try
        {
            if (_created) return;
            await ExecuteAsync(connection, Create, cancellationToken);
            try
            {
                await ExecuteAsync(connection, HasAnswer, cancellationToken);
            }
            catch (DbException)
            {
                await ExecuteAsync(connection, AddAnswer, cancellationToken);
            }
            _created = true;
        }
        finally
        {
            _createOnce.Release();
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
