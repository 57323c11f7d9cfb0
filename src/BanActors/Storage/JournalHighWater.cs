using Akka.Actor;

namespace BanActors.Storage;

/// <summary>
/// How far the journal is already reflected in what the expiry index has applied, without reading its events. The index
/// on one node learns changes from notices, which carry no offset; before a snapshot it walks the journal's rows after
/// its offset by (ordering, persistence id, sequence number) alone, in ordering order, up to the first ban event whose
/// sequence number it has not applied (a notice still on its way): the snapshot covers everything before that row. No
/// payload is read or deserialized. SQLite only: it has one writer, so every row not yet visible to a read has an
/// ordering above the highest one it sees. Other stores (PostgreSQL, where orderings can commit out of order) get null,
/// and the index reads the events through the read journal, whose sequence retrieval handles such gaps.
/// </summary>
internal static class JournalHighWater
{
    /// <summary>
    /// The reader for <paramref name="system"/>'s journal, or null where it does not apply. Given the offset and each
    /// persistence id's applied sequence number, it answers the highest ordering up to which every ban event (persistence
    /// ids starting with <paramref name="banPrefix"/>) is applied.
    /// </summary>
    public static Func<long, IReadOnlyDictionary<string, long>, CancellationToken, Task<long>>? For(ActorSystem system,
        string journalPluginId, string banPrefix)
    {
        if (SqliteJournalTable.For(system, journalPluginId) is not { } table) return null;
        var columns = table.Columns;
        var sql = $"SELECT {Quote(columns.Ordering)}, {Quote(columns.PersistenceId)}, {Quote(columns.SequenceNumber)} FROM {table.Name} " +
                  $"WHERE {Quote(columns.Ordering)} > @offset ORDER BY {Quote(columns.Ordering)}";
        return async (offset, applied, cancellationToken) =>
        {
            await using var connection = await table.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            Sql.Add(command, "@offset", offset);
            var covered = offset;
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var persistenceId = reader.GetString(1);
                if (persistenceId.StartsWith(banPrefix, StringComparison.Ordinal)
                    && (!applied.TryGetValue(persistenceId, out var seen) || seen < reader.GetInt64(2)))
                    break;
                covered = reader.GetInt64(0);
            }
            return covered;
        };
    }

    private static string Quote(string identifier) => Sql.Quote(identifier);
}
