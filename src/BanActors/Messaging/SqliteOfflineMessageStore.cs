using System.Data.Common;
using BanActors.Bans;
using BanActors.Storage;
using Microsoft.Data.Sqlite;

namespace BanActors.Messaging;

/// <summary>
/// Offline messages in the journal's SQLite file (already in WAL mode, so these writes never block the
/// journal's readers). Microsoft.Data.Sqlite retries on a busy database until the command timeout.
/// </summary>
internal sealed class SqliteOfflineMessageStore(string connectionString) : IOfflineMessageStore
{
    private const string Columns = "id, app_key, user_id, msg_uid, from_user_id, object_name, content, push_content, push_data, sent_time";
    private const int PurgeBatch = 5_000;
    private static readonly string[] InsertParameters =
        ["$app", "$user", "$uid", "$from", "$object", "$content", "$pushContent", "$pushData", "$sent"];

    private readonly SemaphoreSlim _initLock = new(1, 1);
    private volatile bool _initialized;

    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        if (_initialized) return;
        await _initLock.WaitAsync(cancellationToken);
        try
        {
            if (_initialized) return;
            // Normally the engine prepared the file already; this covers a store started on its own.
            BanEngineConfig.PrepareStorage(new StorageOptions { Provider = StorageProvider.Sqlite, ConnectionString = connectionString });
            await using var connection = new SqliteConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE IF NOT EXISTS offline_messages (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    app_key TEXT NOT NULL,
                    user_id TEXT NOT NULL,
                    msg_uid TEXT NOT NULL,
                    from_user_id TEXT NOT NULL,
                    object_name TEXT NOT NULL,
                    content TEXT NOT NULL,
                    push_content TEXT NULL,
                    push_data TEXT NULL,
                    sent_time INTEGER NOT NULL);
                CREATE INDEX IF NOT EXISTS ix_offline_messages_recipient ON offline_messages (app_key, user_id, sent_time, id);
                CREATE INDEX IF NOT EXISTS ix_offline_messages_sent_time ON offline_messages (sent_time);
                """;
            await command.ExecuteNonQueryAsync(cancellationToken);
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
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO offline_messages (app_key, user_id, msg_uid, from_user_id, object_name, content, push_content, push_data, sent_time)
            VALUES ($app, $user, $uid, $from, $object, $content, $pushContent, $pushData, $sent)
            """;
        var p = InsertParameters.Select(name => command.Parameters.Add(new SqliteParameter { ParameterName = name })).ToArray();
        foreach (var m in messages)
        {
            p[0].Value = m.To.AppKey;
            p[1].Value = m.To.UserId;
            p[2].Value = m.MsgUid;
            p[3].Value = m.FromUserId;
            p[4].Value = m.ObjectName;
            p[5].Value = m.Content;
            p[6].Value = (object?)m.PushContent ?? DBNull.Value;
            p[7].Value = (object?)m.PushData ?? DBNull.Value;
            p[8].Value = m.SentTimeMs;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<KeptMessage>> LoadAsync(UserKey user, DateTimeOffset notBefore, KeptMessage? after, int limit,
        CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {Columns} FROM offline_messages
            WHERE app_key = $app AND user_id = $user AND sent_time >= $notBefore
              AND (sent_time > $afterTime OR (sent_time = $afterTime AND id > $afterId))
            ORDER BY sent_time, id
            LIMIT $limit
            """;
        command.Parameters.AddWithValue("$app", user.AppKey);
        command.Parameters.AddWithValue("$user", user.UserId);
        command.Parameters.AddWithValue("$notBefore", notBefore.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$afterTime", after?.Message.SentTimeMs ?? long.MinValue);
        command.Parameters.AddWithValue("$afterId", after?.Id ?? long.MinValue);
        command.Parameters.AddWithValue("$limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await ReadAllAsync(reader, cancellationToken);
    }

    public async Task DeleteAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken = default)
    {
        if (ids.Count == 0) return;
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // Ids are integers from the store itself, so inlining them is safe and avoids SQLite's parameter limit.
        command.CommandText = $"DELETE FROM offline_messages WHERE id IN ({string.Join(',', ids)})";
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<int> PurgeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // In batches, so a large purge never holds the write lock long enough to stall the journal.
        command.CommandText = """
            DELETE FROM offline_messages WHERE id IN
                (SELECT id FROM offline_messages WHERE sent_time < $cutoff LIMIT $batch)
            """;
        command.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$batch", PurgeBatch);
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
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM offline_messages WHERE app_key = $app AND user_id = $user";
        command.Parameters.AddWithValue("$app", user.AppKey);
        command.Parameters.AddWithValue("$user", user.UserId);
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<IReadOnlyDictionary<string, long>> CountByAppAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT app_key, COUNT(*) FROM offline_messages GROUP BY app_key";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken)) counts[reader.GetString(0)] = reader.GetInt64(1);
        return counts;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken);
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    internal static async Task<IReadOnlyList<KeptMessage>> ReadAllAsync(DbDataReader reader, CancellationToken cancellationToken)
    {
        var result = new List<KeptMessage>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var message = new UserMessage(
                MsgUid: reader.GetString(3),
                To: new UserKey(reader.GetString(1), reader.GetString(2)),
                FromUserId: reader.GetString(4),
                ObjectName: reader.GetString(5),
                Content: reader.GetString(6),
                PushContent: reader.IsDBNull(7) ? null : reader.GetString(7),
                PushData: reader.IsDBNull(8) ? null : reader.GetString(8),
                SentTime: DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)));
            result.Add(new KeptMessage(reader.GetInt64(0), message));
        }
        return result;
    }
}
