using Akka.Actor;
using Akka.Persistence.Sql.Config;

namespace BanActors.Storage;

/// <summary>
/// The tagged events of a SQLite journal after an offset, read straight from its table: ordering, sequence number,
/// payload, manifest and serializer, deserialized by the actor system's serialization, nothing else. The ledger's
/// projection follows it on one node instead of the read journal's tag query, whose sequence retrieval, query
/// building, envelopes and stream stages cost the ban path CPU on every event (docs/BENCHMARKS.md, issue 10 and 11);
/// the expiry index loads from it at a start, where the read journal first learned the journal's highest ordering
/// (about a second) and then read about 50,000 events a second. SQLite only, like <see cref="JournalHighWater"/>: it
/// has one writer, so a row not yet visible to a read has an ordering above every one it sees, and following by
/// ordering never skips one. Other stores (PostgreSQL, where orderings can commit out of order) get null and keep the
/// read journal, which handles such gaps.
/// </summary>
internal static class JournalEventRows
{
    /// <summary>At most <c>limit</c> events after <c>after</c>, in ordering order, each with its persistence sequence number.</summary>
    public delegate Task<List<(long Ordering, long SequenceNr, object Event)>> Reader(long after, int limit, CancellationToken cancellationToken);

    /// <summary>The reader of <paramref name="tag"/>'s events in <paramref name="system"/>'s journal, or null where it does not apply.</summary>
    public static Reader? For(ActorSystem system, string journalPluginId, string tag)
    {
        if (SqliteJournalTable.For(system, journalPluginId) is not { } table
            || table.Config.DaoConfig.SqlCommonCompatibilityMode || table.Config.PluginConfig.TagMode != TagMode.Csv)
            return null;
        var c = table.Columns;
        var sql = $"SELECT {Quote(c.Ordering)}, {Quote(c.Message)}, {Quote(c.Manifest)}, {Quote(c.Identifier)}, {Quote(c.SequenceNumber)} FROM {table.Name} " +
                  $"WHERE {Quote(c.Ordering)} > @after AND {Quote(c.Deleted)} = 0 AND {Quote(c.Tags)} LIKE @tag " +
                  $"ORDER BY {Quote(c.Ordering)} LIMIT @limit";
        var separator = table.Config.PluginConfig.TagSeparator;
        var pattern = $"%{separator}{tag}{separator}%";
        var serialization = system.Serialization;
        return async (after, limit, cancellationToken) =>
        {
            await using var connection = await table.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            Sql.Add(command, "@after", after);
            Sql.Add(command, "@tag", pattern);
            Sql.Add(command, "@limit", limit);
            var events = new List<(long, long, object)>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var payload = (byte[])reader.GetValue(1);
                var manifest = reader.IsDBNull(2) ? "" : reader.GetString(2);
                events.Add((reader.GetInt64(0), reader.GetInt64(4), serialization.Deserialize(payload, reader.GetInt32(3), manifest)));
            }
            return events;
        };
    }

    private static string Quote(string identifier) => Sql.Quote(identifier);
}
