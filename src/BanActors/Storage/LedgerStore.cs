using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace BanActors.Storage;

/// <summary>
/// The app-wide ledger's table, <c>ban_ledger</c>, in the journal's database: one row per ban event, keyed by the
/// event's journal offset (<c>ordering</c>), so the projection's durable offset is the table's own highest key and a
/// batch written twice changes nothing. The same SQL serves SQLite and PostgreSQL.
/// </summary>
internal sealed class LedgerStore(StorageOptions storage)
{
    // On SQLite the ledger has a file of its own next to the journal's: SQLite has one writer per file, and the
    // projection's batches would otherwise queue the journal's commits behind them.
    private readonly string _connectionString = storage.Provider == StorageProvider.Sqlite
        ? SqliteLedgerConnectionString(storage.ConnectionString)
        : storage.ConnectionString;

    internal static string SqliteLedgerConnectionString(string journal)
    {
        var builder = new SqliteConnectionStringBuilder(journal);
        if (builder.Mode == SqliteOpenMode.Memory || string.IsNullOrEmpty(builder.DataSource) || builder.DataSource == ":memory:")
            return journal;
        builder.DataSource = Path.ChangeExtension(builder.DataSource, null) + ".ledger.db";
        return builder.ConnectionString;
    }

    private const string Create = """
        CREATE TABLE IF NOT EXISTS ban_ledger (
            ordering BIGINT NOT NULL PRIMARY KEY, app_key TEXT NOT NULL, user_id TEXT NOT NULL, action SMALLINT NOT NULL,
            time_ms BIGINT NOT NULL, minutes INTEGER NULL, until_ms BIGINT NULL, reason TEXT NULL, operator TEXT NULL);
        CREATE INDEX IF NOT EXISTS ix_ban_ledger_app ON ban_ledger (app_key, ordering);
        CREATE INDEX IF NOT EXISTS ix_ban_ledger_app_user ON ban_ledger (app_key, user_id, ordering);
        CREATE INDEX IF NOT EXISTS ix_ban_ledger_app_operator ON ban_ledger (app_key, operator, ordering);
        CREATE INDEX IF NOT EXISTS ix_ban_ledger_time ON ban_ledger (time_ms);
        """;

    private const string Insert = """
        INSERT INTO ban_ledger (ordering, app_key, user_id, action, time_ms, minutes, until_ms, reason, operator)
        VALUES (@o, @app, @user, @action, @time, @minutes, @until, @reason, @op) ON CONFLICT (ordering) DO NOTHING
        """;

    public sealed record Row(long Ordering, UserKey User, BanHistoryEntry Entry);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (storage.Provider == StorageProvider.Sqlite)
            BanEngineConfig.PrepareStorage(new StorageOptions { ConnectionString = _connectionString });
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = Create;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The highest journal offset written: where the projection resumes.</summary>
    public async Task<long> HighestOffsetAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(ordering), 0) FROM ban_ledger";
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    public async Task AddAsync(IReadOnlyList<Row> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0) return;
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // One command for the whole batch, its parameters set per row: the statement is parsed once.
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = Insert;
        var names = new[] { "@o", "@app", "@user", "@action", "@time", "@minutes", "@until", "@reason", "@op" };
        foreach (var name in names) Add(command, name, null);
        foreach (var row in rows)
        {
            var e = row.Entry;
            Set(command, 0, row.Ordering);
            Set(command, 1, row.User.AppKey);
            Set(command, 2, row.User.UserId);
            Set(command, 3, (short)e.Action);
            Set(command, 4, e.Time.ToUnixTimeMilliseconds());
            Set(command, 5, e.Minutes);
            Set(command, 6, e.Until?.ToUnixTimeMilliseconds());
            Set(command, 7, e.Reason);
            Set(command, 8, e.Operator);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Removes entries older than <paramref name="before"/>; returns how many.</summary>
    public async Task<int> PurgeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM ban_ledger WHERE time_ms < @before";
        Add(command, "@before", before.ToUnixTimeMilliseconds());
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<BanLogPage> QueryAsync(string appKey, BanLogQuery query, long? before, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        var sql = new StringBuilder(
            "SELECT ordering, user_id, action, time_ms, minutes, until_ms, reason, operator FROM ban_ledger WHERE app_key = @app");
        Add(command, "@app", appKey);
        if (before is { } b) { sql.Append(" AND ordering < @before"); Add(command, "@before", b); }
        if (query.Operator is { } op) { sql.Append(" AND operator = @op"); Add(command, "@op", op); }
        if (query.UserId is { } user) { sql.Append(" AND user_id = @user"); Add(command, "@user", user); }
        if (query.Action is { } action) { sql.Append(" AND action = @action"); Add(command, "@action", (short)action); }
        if (query.From is { } from) { sql.Append(" AND time_ms >= @from"); Add(command, "@from", from.ToUnixTimeMilliseconds()); }
        if (query.To is { } to) { sql.Append(" AND time_ms <= @to"); Add(command, "@to", to.ToUnixTimeMilliseconds()); }
        // One more than a page tells whether there is a next one.
        sql.Append(" ORDER BY ordering DESC LIMIT @limit");
        Add(command, "@limit", query.Size + 1);
        command.CommandText = sql.ToString();

        var entries = new List<BanLogEntry>(query.Size);
        long last = 0;
        var more = false;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (entries.Count == query.Size)
            {
                more = true;
                break;
            }
            last = reader.GetInt64(0);
            entries.Add(new BanLogEntry(
                reader.GetString(1),
                (BanAction)reader.GetInt16(2),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                reader.IsDBNull(4) ? null : reader.GetInt32(4),
                reader.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7)));
        }
        return new BanLogPage(entries, more ? last.ToString(CultureInfo.InvariantCulture) : null);
    }

    private static void Set(DbCommand command, int index, object? value) => command.Parameters[index].Value = value ?? DBNull.Value;

    private static void Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        DbConnection connection = storage.Provider == StorageProvider.PostgreSql
            ? new NpgsqlConnection(_connectionString)
            : new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }
}
