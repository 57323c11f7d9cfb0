using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

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

    /// <summary>SQLite, with the ledger in a file of its own (not an in-memory test database shared with the journal).</summary>
    private bool OwnsSqliteFile => storage.Provider == StorageProvider.Sqlite && _connectionString != storage.ConnectionString;

    internal static string SqliteLedgerConnectionString(string journal)
    {
        var builder = new SqliteConnectionStringBuilder(journal);
        if (builder.Mode == SqliteOpenMode.Memory || string.IsNullOrEmpty(builder.DataSource) || builder.DataSource == ":memory:")
            return journal;
        builder.DataSource = Path.ChangeExtension(builder.DataSource, null) + ".ledger.db";
        return builder.ConnectionString;
    }

    /// <summary>The advisory lock of the ledger's and the feed's tables ("BANLEDG").</summary>
    private const long SchemaLockKey = 0x42414E_4C454447;

    // On SQLite, INTEGER PRIMARY KEY makes the offset the table's own rowid (BIGINT would add a separate unique index,
    // one more b-tree per row). Every index is one more b-tree a ledger row is written into, and the projection's
    // writes are what the ledger costs durable bans (docs/BENCHMARKS.md): the operator index holds only entries that
    // name one (an expiry never does, nor a ban through RongCloud's SDKs), and the retention purge goes app by app
    // through the time index instead of an index of its own. Tables made before keep their key; their two older
    // indexes are replaced.
    private static string Create(StorageProvider provider) => $"""
        CREATE TABLE IF NOT EXISTS ban_ledger (
            ordering {(provider == StorageProvider.Sqlite ? "INTEGER" : "BIGINT")} NOT NULL PRIMARY KEY, app_key TEXT NOT NULL,
            user_id TEXT NOT NULL, action SMALLINT NOT NULL, time_ms BIGINT NOT NULL, minutes INTEGER NULL, until_ms BIGINT NULL,
            reason TEXT NULL, operator TEXT NULL);
        CREATE INDEX IF NOT EXISTS ix_ban_ledger_app ON ban_ledger (app_key, ordering);
        CREATE INDEX IF NOT EXISTS ix_ban_ledger_app_user ON ban_ledger (app_key, user_id, ordering);
        CREATE INDEX IF NOT EXISTS ix_ban_ledger_app_op ON ban_ledger (app_key, operator, ordering) WHERE operator IS NOT NULL;
        CREATE INDEX IF NOT EXISTS ix_ban_ledger_app_time ON ban_ledger (app_key, time_ms, action, ordering);
        DROP INDEX IF EXISTS ix_ban_ledger_app_operator;
        DROP INDEX IF EXISTS ix_ban_ledger_time;
        """;

    // Added with the event feed: when the projection recorded the entry (an expiry's time is its end time, recorded
    // when the engine lifted it, possibly later, after a restart). Null on entries written before.
    private const string RecordedColumn = "recorded_ms";

    private const string Insert = """
        INSERT INTO ban_ledger (ordering, app_key, user_id, action, time_ms, minutes, until_ms, reason, operator, recorded_ms)
        VALUES (@o, @app, @user, @action, @time, @minutes, @until, @reason, @op, @rec) ON CONFLICT (ordering) DO NOTHING
        """;

    /// <param name="Recorded">When the projection wrote the entry (null on entries older than the event feed).</param>
    public sealed record Row(long Ordering, UserKey User, BanHistoryEntry Entry, DateTimeOffset? Recorded = null);

    public StorageProvider Provider => storage.Provider;

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (storage.Provider == StorageProvider.Sqlite)
            BanEngineConfig.PrepareStorage(new StorageOptions { ConnectionString = _connectionString });
        await CreateSchemaAsync(Create(storage.Provider), (connection, transaction) =>
            AddColumnAsync(connection, transaction, RecordedColumn, "BIGINT NULL", cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="ddl"/>, then <paramref name="more"/>, in one transaction that holds the schema lock: a
    /// PostgreSQL advisory lock, or SQLite's write lock. Without it, components creating the same tables at the same
    /// moment (the projection and the feed as their singletons start, on one node or two) fail in PostgreSQL's catalog
    /// (23505 on <c>pg_type</c>) despite <c>IF NOT EXISTS</c>, and both add a missing column.
    /// </summary>
    internal async Task CreateSchemaAsync(string ddl, Func<DbConnection, DbTransaction, Task>? more, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = storage.Provider == StorageProvider.PostgreSql ? $"SELECT pg_advisory_xact_lock({SchemaLockKey});\n{ddl}" : ddl;
        await command.ExecuteNonQueryAsync(cancellationToken);
        if (more is not null) await more(connection, transaction);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Adds a column that a later version introduced to a table made before it.</summary>
    private async Task AddColumnAsync(DbConnection connection, DbTransaction transaction, string column, string type,
        CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        if (storage.Provider == StorageProvider.PostgreSql)
        {
            command.CommandText = $"ALTER TABLE ban_ledger ADD COLUMN IF NOT EXISTS {column} {type}";
            await command.ExecuteNonQueryAsync(cancellationToken);
            return;
        }
        command.CommandText = "SELECT COUNT(*) FROM pragma_table_info('ban_ledger') WHERE name = @column";
        Add(command, "@column", column);
        if (Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) > 0) return;
        command.Parameters.Clear();
        command.CommandText = $"ALTER TABLE ban_ledger ADD COLUMN {column} {type}";
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
        var names = new[] { "@o", "@app", "@user", "@action", "@time", "@minutes", "@until", "@reason", "@op", "@rec" };
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
            Set(command, 9, row.Recorded?.ToUnixTimeMilliseconds());
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// The entries after journal offset <paramref name="after"/>, oldest first, at most <paramref name="limit"/>:
    /// what the event feed reads. <paramref name="appKey"/> null reads every app.
    /// </summary>
    public async Task<List<Row>> ReadAfterAsync(string? appKey, long after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT ordering, app_key, user_id, action, time_ms, minutes, until_ms, reason, operator, recorded_ms FROM ban_ledger
            WHERE ordering > @after{(appKey is null ? "" : " AND app_key = @app")} ORDER BY ordering LIMIT @limit
            """;
        Add(command, "@after", after);
        if (appKey is not null) Add(command, "@app", appKey);
        Add(command, "@limit", limit);
        var rows = new List<Row>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) rows.Add(ReadRow(reader));
        return rows;
    }

    /// <summary>A row of the columns ordering, app_key, user_id, action, time_ms, minutes, until_ms, reason, operator, recorded_ms.</summary>
    internal static Row ReadRow(DbDataReader reader)
    {
        var entry = new BanHistoryEntry(
            (BanAction)reader.GetInt16(3),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
            reader.IsDBNull(5) ? null : reader.GetInt32(5),
            reader.IsDBNull(6) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)),
            reader.IsDBNull(7) ? null : reader.GetString(7),
            reader.IsDBNull(8) ? null : reader.GetString(8));
        return new Row(reader.GetInt64(0), new UserKey(reader.GetString(1), reader.GetString(2)), entry,
            reader.IsDBNull(9) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)));
    }

    /// <summary>Removes entries older than <paramref name="before"/>; returns how many.</summary>
    public async Task<int> PurgeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // App by app, so that each delete is a range of the (app, time) index; the apps are found by skipping through
        // the (app, ordering) index from one app to the next, not by reading it all.
        command.CommandText = """
            WITH RECURSIVE apps(app) AS (
                SELECT MIN(app_key) FROM ban_ledger
                UNION ALL SELECT (SELECT MIN(app_key) FROM ban_ledger WHERE app_key > apps.app) FROM apps WHERE apps.app IS NOT NULL)
            DELETE FROM ban_ledger WHERE app_key IN (SELECT app FROM apps WHERE app IS NOT NULL) AND time_ms < @before
            """;
        Add(command, "@before", before.ToUnixTimeMilliseconds());
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<BanLogPage> QueryAsync(string appKey, BanLogQuery query, long? before, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        const string Columns = "SELECT ordering, user_id, action, time_ms, minutes, until_ms, reason, operator FROM ban_ledger";
        // A time window alone (with or without an action) is answered from the index on (app, time, action, ordering):
        // the newest orderings of the window are picked from the index only, then their rows read. Scanning back by
        // ordering instead would read every entry newer than the window (400 ms at p99 over 1,000,000 entries).
        var byTime = (query.From is not null || query.To is not null) && query.Operator is null && query.UserId is null;
        var sql = new StringBuilder(byTime
            ? "SELECT ordering FROM ban_ledger" + (storage.Provider == StorageProvider.Sqlite ? " INDEXED BY ix_ban_ledger_app_time" : "") +
              " WHERE app_key = @app"
            : Columns + " WHERE app_key = @app");
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
        command.CommandText = byTime
            ? $"{Columns} WHERE ordering IN ({sql}) ORDER BY ordering DESC"
            : sql.ToString();

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

    private static void Add(DbCommand command, string name, object? value) => Sql.Add(command, name, value);

    internal async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = await Sql.OpenAsync(storage.Provider, _connectionString, cancellationToken);
        if (!OwnsSqliteFile) return connection;
        try
        {
            // The ledger's own file is a read side: what a power loss takes from its last commits (WAL, NORMAL: never
            // a torn file) the projection writes again from the journal, whose commits stay FULL; the feed's offsets
            // fall back with it, so events are sent again, never lost. A commit here then waits for no fsync of its
            // own, which on the journal's disk queued the journal's group commits behind it.
            await using var command = connection.CreateCommand();
            command.CommandText = SqliteConnectionPragmas.SynchronousNormal;
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
