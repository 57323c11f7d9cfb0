using BanActors.Bans;
using Npgsql;
using NpgsqlTypes;

namespace BanActors.Messaging;

/// <summary>Offline messages in the journal's PostgreSQL database; every node of a cluster shares the table.</summary>
internal sealed class PostgreSqlOfflineMessageStore : IOfflineMessageStore, IAsyncDisposable
{
    private const string Columns = "id, app_key, user_id, msg_uid, from_user_id, object_name, content, push_content, push_data, sent_time";
    private const int PurgeBatch = 10_000;
    // Any constant; serializes table creation when several nodes start at once (CREATE ... IF NOT EXISTS can race).
    private const long SchemaLockKey = 0x42414E_4D5347;

    private readonly NpgsqlDataSource _dataSource;
    private readonly SemaphoreSlim _initLock = new(1, 1);
    private volatile bool _initialized;

    public PostgreSqlOfflineMessageStore(string connectionString) => _dataSource = NpgsqlDataSource.Create(connectionString);

    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        if (_initialized) return;
        await _initLock.WaitAsync(cancellationToken);
        try
        {
            if (_initialized) return;
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"""
                SELECT pg_advisory_xact_lock({SchemaLockKey});
                CREATE TABLE IF NOT EXISTS offline_messages (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    app_key TEXT NOT NULL,
                    user_id TEXT NOT NULL,
                    msg_uid TEXT NOT NULL,
                    from_user_id TEXT NOT NULL,
                    object_name TEXT NOT NULL,
                    content TEXT NOT NULL,
                    push_content TEXT NULL,
                    push_data TEXT NULL,
                    sent_time BIGINT NOT NULL);
                CREATE INDEX IF NOT EXISTS ix_offline_messages_recipient ON offline_messages (app_key, user_id, sent_time, id);
                CREATE INDEX IF NOT EXISTS ix_offline_messages_sent_time ON offline_messages (sent_time);
                """, connection, transaction);
            await command.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            _initialized = true;
        }
        finally
        {
            _initLock.Release();
        }
    }

    public async Task AddAsync(IReadOnlyList<UserMessage> messages, CancellationToken cancellationToken = default)
    {
        if (messages.Count == 0) return;
        await InitializeAsync(cancellationToken);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // One batch, one round trip; statements run in order, so ids follow the list's send order.
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var m in messages)
        {
            var command = new NpgsqlBatchCommand("""
                INSERT INTO offline_messages (app_key, user_id, msg_uid, from_user_id, object_name, content, push_content, push_data, sent_time)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                """);
            command.Parameters.Add(new NpgsqlParameter { Value = m.To.AppKey });
            command.Parameters.Add(new NpgsqlParameter { Value = m.To.UserId });
            command.Parameters.Add(new NpgsqlParameter { Value = m.MsgUid });
            command.Parameters.Add(new NpgsqlParameter { Value = m.FromUserId });
            command.Parameters.Add(new NpgsqlParameter { Value = m.ObjectName });
            command.Parameters.Add(new NpgsqlParameter { Value = m.Content });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)m.PushContent ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)m.PushData ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = m.SentTimeMs });
            batch.BatchCommands.Add(command);
        }
        await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<KeptMessage>> LoadAsync(UserKey user, DateTimeOffset notBefore, KeptMessage? after, int limit,
        CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken);
        await using var command = _dataSource.CreateCommand($"""
            SELECT {Columns} FROM offline_messages
            WHERE app_key = $1 AND user_id = $2 AND sent_time >= $3 AND (sent_time, id) > ($4, $5)
            ORDER BY sent_time, id
            LIMIT $6
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = user.AppKey });
        command.Parameters.Add(new NpgsqlParameter { Value = user.UserId });
        command.Parameters.Add(new NpgsqlParameter { Value = notBefore.ToUnixTimeMilliseconds() });
        command.Parameters.Add(new NpgsqlParameter { Value = after?.Message.SentTimeMs ?? long.MinValue });
        command.Parameters.Add(new NpgsqlParameter { Value = after?.Id ?? long.MinValue });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await SqliteOfflineMessageStore.ReadAllAsync(reader, cancellationToken);
    }

    public async Task DeleteAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken = default)
    {
        if (ids.Count == 0) return;
        await InitializeAsync(cancellationToken);
        await using var command = _dataSource.CreateCommand("DELETE FROM offline_messages WHERE id = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<int> PurgeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken);
        await using var command = _dataSource.CreateCommand("""
            DELETE FROM offline_messages WHERE id IN
                (SELECT id FROM offline_messages WHERE sent_time < $1 LIMIT $2)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = cutoff.ToUnixTimeMilliseconds() });
        command.Parameters.Add(new NpgsqlParameter { Value = PurgeBatch });
        var total = 0;
        int deleted;
        do
        {
            deleted = await command.ExecuteNonQueryAsync(cancellationToken);
            total += deleted;
        } while (deleted == PurgeBatch);
        return total;
    }

    public async Task<int> CountAsync(UserKey user, CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken);
        await using var command = _dataSource.CreateCommand(
            "SELECT COUNT(*) FROM offline_messages WHERE app_key = $1 AND user_id = $2");
        command.Parameters.Add(new NpgsqlParameter { Value = user.AppKey });
        command.Parameters.Add(new NpgsqlParameter { Value = user.UserId });
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<IReadOnlyDictionary<string, long>> CountByAppAsync(CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken);
        await using var command = _dataSource.CreateCommand("SELECT app_key, COUNT(*) FROM offline_messages GROUP BY app_key");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken)) counts[reader.GetString(0)] = reader.GetInt64(1);
        return counts;
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
