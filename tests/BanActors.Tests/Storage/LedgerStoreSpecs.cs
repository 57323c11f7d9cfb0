using BanActors.Storage;
using BanActors.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace BanActors.Tests.Storage;

/// <summary>
/// The ledger's table on both stores: the retention purge, the schema a ledger made by an earlier version is brought
/// to, and what its SQLite file is written with.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class LedgerStoreSpecs(PostgresServer postgres) : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private readonly string _folder = Directory.CreateTempSubdirectory("ledger-store-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    private StorageOptions Sqlite() => new()
    {
        Provider = StorageProvider.Sqlite,
        ConnectionString = $"Data Source={Path.Combine(_folder, "bans.db")}",
    };

    private static LedgerStore.Row Row(long ordering, string app, string user, int minutesAfterT0, string? op = null) =>
        new(ordering, new UserKey(app, user),
            new BanHistoryEntry(BanAction.Block, T0.AddMinutes(minutesAfterT0), 10, T0.AddMinutes(minutesAfterT0 + 10), null, op));

    public static TheoryData<StorageProvider> Providers => new() { StorageProvider.Sqlite, StorageProvider.PostgreSql };

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public async Task The_purge_removes_every_apps_entries_older_than_the_retention_and_keeps_the_rest(StorageProvider provider)
    {
        var store = new LedgerStore(await StorageAsync(provider));
        await store.InitializeAsync(CancellationToken.None);
        await store.AddAsync(
            [Row(1, "a", "u1", 0), Row(2, "b", "u2", 1), Row(3, "c", "u3", 2), Row(4, "a", "u4", 60), Row(5, "c", "u5", 61)],
            CancellationToken.None);

        var removed = await store.PurgeAsync(T0.AddMinutes(30), CancellationToken.None);

        Assert.Equal(3, removed);
        Assert.Equal(["u4"], (await store.QueryAsync("a", new BanLogQuery(), null, CancellationToken.None)).Entries.Select(e => e.UserId));
        Assert.Empty((await store.QueryAsync("b", new BanLogQuery(), null, CancellationToken.None)).Entries);
        Assert.Equal(["u5"], (await store.QueryAsync("c", new BanLogQuery(), null, CancellationToken.None)).Entries.Select(e => e.UserId));
        Assert.Equal(0, await store.PurgeAsync(T0.AddMinutes(30), CancellationToken.None));
    }

    [Fact]
    public async Task A_ledger_made_by_the_earlier_schema_keeps_its_entries_and_gets_the_new_indexes()
    {
        var storage = Sqlite();
        var file = LedgerStore.SqliteLedgerConnectionString(storage.ConnectionString);
        await using (var old = new SqliteConnection(file))
        {
            await old.OpenAsync();
            await using var command = old.CreateCommand();
            command.CommandText = """
                CREATE TABLE ban_ledger (
                    ordering BIGINT NOT NULL PRIMARY KEY, app_key TEXT NOT NULL, user_id TEXT NOT NULL, action SMALLINT NOT NULL,
                    time_ms BIGINT NOT NULL, minutes INTEGER NULL, until_ms BIGINT NULL, reason TEXT NULL, operator TEXT NULL);
                CREATE INDEX ix_ban_ledger_app ON ban_ledger (app_key, ordering);
                CREATE INDEX ix_ban_ledger_app_user ON ban_ledger (app_key, user_id, ordering);
                CREATE INDEX ix_ban_ledger_app_operator ON ban_ledger (app_key, operator, ordering);
                CREATE INDEX ix_ban_ledger_time ON ban_ledger (time_ms);
                CREATE INDEX ix_ban_ledger_app_time ON ban_ledger (app_key, time_ms, action, ordering);
                INSERT INTO ban_ledger VALUES (7, 'a', 'old', 0, 1796119200000, 10, 1796119800000, 'spam', 'alice');
                """;
            await command.ExecuteNonQueryAsync();
        }

        var store = new LedgerStore(storage);
        await store.InitializeAsync(CancellationToken.None);
        await store.AddAsync([Row(8, "a", "new", 5, op: "alice"), Row(9, "a", "quiet", 6)], CancellationToken.None);

        var byAlice = await store.QueryAsync("a", new BanLogQuery(Operator: "alice"), null, CancellationToken.None);
        Assert.Equal(["new", "old"], byAlice.Entries.Select(e => e.UserId));
        Assert.Equal(9, await store.HighestOffsetAsync(CancellationToken.None));
        await using var connection = new SqliteConnection(file);
        await connection.OpenAsync();
        Assert.Equal(["ix_ban_ledger_app", "ix_ban_ledger_app_op", "ix_ban_ledger_app_time", "ix_ban_ledger_app_user"], Indexes(connection));
        // The operator filter reads the partial index, which holds only the entries that name an operator.
        Assert.Contains("ix_ban_ledger_app_op", Plan(connection, "SELECT ordering FROM ban_ledger WHERE app_key = 'a' AND operator = 'alice' ORDER BY ordering DESC"));
        Assert.Equal(2L, Scalar(connection, "SELECT COUNT(*) FROM ban_ledger INDEXED BY ix_ban_ledger_app_op WHERE app_key = 'a' AND operator IS NOT NULL"));
    }

    [Fact]
    public async Task A_new_sqlite_ledger_is_keyed_by_its_rowid_and_commits_without_waiting_for_fsync_while_the_journal_does()
    {
        var storage = Sqlite();
        BanEngineConfig.PrepareStorage(storage);
        var store = new LedgerStore(storage);
        await store.InitializeAsync(CancellationToken.None);

        await using (var ledger = await store.OpenAsync(CancellationToken.None))
        {
            // 1 = NORMAL: in WAL mode a commit survives a crash of the process; a power loss can take the last commits
            // back, and the projection writes them again from the journal.
            Assert.Equal(1L, Scalar((SqliteConnection)ledger, "PRAGMA synchronous"));
            Assert.Equal("wal", Scalar((SqliteConnection)ledger, "PRAGMA journal_mode"));
            Assert.Equal(["ix_ban_ledger_app", "ix_ban_ledger_app_op", "ix_ban_ledger_app_time", "ix_ban_ledger_app_user"],
                Indexes((SqliteConnection)ledger));
            Assert.Contains("INTEGER", (string)Scalar((SqliteConnection)ledger, "SELECT type FROM pragma_table_info('ban_ledger') WHERE name = 'ordering'")!);
        }
        await using var journal = new SqliteConnection(storage.ConnectionString);
        await journal.OpenAsync();
        Assert.Equal(2L, Scalar(journal, "PRAGMA synchronous"));
    }

    private async Task<StorageOptions> StorageAsync(StorageProvider provider)
    {
        if (provider == StorageProvider.Sqlite) return Sqlite();
        postgres.RequireOrSkip();
        return await postgres.CreateStorageAsync("ledger_store");
    }

    private static List<string> Indexes(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ban_ledger' AND sql IS NOT NULL ORDER BY name";
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read()) names.Add(reader.GetString(0));
        return names;
    }

    private static string Plan(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        using var reader = command.ExecuteReader();
        var plan = new List<string>();
        while (reader.Read()) plan.Add(reader.GetString(3));
        return string.Join(" | ", plan);
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
