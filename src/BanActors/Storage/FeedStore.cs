using System.Data.Common;
using System.Globalization;

namespace BanActors.Storage;

/// <summary>
/// The event feed's durable state next to the ledger it reads (the same database, on SQLite the ledger's file): each
/// handler's delivered offset (<c>ban_feed_offset</c>) and its dead letters (<c>ban_feed_dead</c>). The same SQL
/// serves SQLite and PostgreSQL.
/// </summary>
internal sealed class FeedStore(LedgerStore ledger)
{
    private const string Create = """
        CREATE TABLE IF NOT EXISTS ban_feed_offset (
            handler TEXT NOT NULL PRIMARY KEY, offset_value BIGINT NOT NULL, attempted BIGINT NOT NULL);
        CREATE TABLE IF NOT EXISTS ban_feed_dead (
            handler TEXT NOT NULL, ordering BIGINT NOT NULL, attempts INTEGER NOT NULL, error TEXT NOT NULL,
            dead_ms BIGINT NOT NULL, replay SMALLINT NOT NULL, PRIMARY KEY (handler, ordering));
        """;

    private volatile bool _initialized;

    public LedgerStore Ledger => ledger;

    /// <summary>Creates the tables (the ledger's too) once per instance.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (_initialized) return;
        await ledger.InitializeAsync(cancellationToken);
        await ledger.CreateSchemaAsync(Create, more: null, cancellationToken);
        _initialized = true;
    }

    /// <summary>
    /// The handler's delivered offset (everything up to it was delivered or dead-lettered) and the highest offset it
    /// had started to deliver (what lies between the two may have been delivered already).
    /// </summary>
    public async Task<(long Delivered, long Attempted)> GetOffsetAsync(string handler, CancellationToken cancellationToken)
    {
        await using var connection = await ledger.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT offset_value, attempted FROM ban_feed_offset WHERE handler = @h";
        Sql.Add(command, "@h", handler);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetInt64(0), reader.GetInt64(1)) : (0, 0);
    }

    public async Task SaveOffsetAsync(string handler, long delivered, long attempted, CancellationToken cancellationToken)
    {
        await using var connection = await ledger.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO ban_feed_offset (handler, offset_value, attempted) VALUES (@h, @o, @a)
            ON CONFLICT (handler) DO UPDATE SET offset_value = excluded.offset_value, attempted = excluded.attempted
            """;
        Sql.Add(command, "@h", handler);
        Sql.Add(command, "@o", delivered);
        Sql.Add(command, "@a", attempted);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task AddDeadLetterAsync(string handler, long ordering, int attempts, string error, DateTimeOffset at,
        CancellationToken cancellationToken)
    {
        await using var connection = await ledger.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO ban_feed_dead (handler, ordering, attempts, error, dead_ms, replay) VALUES (@h, @o, @n, @e, @t, 0)
            ON CONFLICT (handler, ordering) DO UPDATE SET attempts = excluded.attempts, error = excluded.error,
                dead_ms = excluded.dead_ms, replay = 0
            """;
        Sql.Add(command, "@h", handler);
        Sql.Add(command, "@o", ordering);
        Sql.Add(command, "@n", attempts);
        Sql.Add(command, "@e", error.Length > 1000 ? error[..1000] : error);
        Sql.Add(command, "@t", at.ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task RemoveDeadLetterAsync(string handler, long ordering, CancellationToken cancellationToken)
    {
        await using var connection = await ledger.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM ban_feed_dead WHERE handler = @h AND ordering = @o";
        Sql.Add(command, "@h", handler);
        Sql.Add(command, "@o", ordering);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Marks dead letters for one more try (all of the handler's when <paramref name="orderings"/> is null).</summary>
    public async Task<int> MarkReplayAsync(string handler, IReadOnlyCollection<long>? orderings, CancellationToken cancellationToken)
    {
        await using var connection = await ledger.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        Sql.Add(command, "@h", handler);
        if (orderings is null)
        {
            command.CommandText = "UPDATE ban_feed_dead SET replay = 1 WHERE handler = @h";
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }
        var names = new List<string>(orderings.Count);
        foreach (var ordering in orderings)
        {
            var name = "@o" + names.Count.ToString(CultureInfo.InvariantCulture);
            names.Add(name);
            Sql.Add(command, name, ordering);
        }
        if (names.Count == 0) return 0;
        command.CommandText = $"UPDATE ban_feed_dead SET replay = 1 WHERE handler = @h AND ordering IN ({string.Join(", ", names)})";
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Dead letters of the handler, oldest first; only those marked for replay when <paramref name="replayOnly"/>.</summary>
    public async Task<List<(LedgerStore.Row Row, int Attempts, string Error, DateTimeOffset DeadSince)>> DeadLettersAsync(
        string handler, bool replayOnly, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await ledger.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT l.ordering, l.app_key, l.user_id, l.action, l.time_ms, l.minutes, l.until_ms, l.reason, l.operator,
                l.recorded_ms, d.attempts, d.error, d.dead_ms
            FROM ban_feed_dead d JOIN ban_ledger l ON l.ordering = d.ordering
            WHERE d.handler = @h{(replayOnly ? " AND d.replay = 1" : "")} ORDER BY d.ordering LIMIT @limit
            """;
        Sql.Add(command, "@h", handler);
        Sql.Add(command, "@limit", limit);
        var letters = new List<(LedgerStore.Row, int, string, DateTimeOffset)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            letters.Add((LedgerStore.ReadRow(reader), reader.GetInt32(10), reader.GetString(11),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(12))));
        return letters;
    }
}
