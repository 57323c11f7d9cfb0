using System.Data.Common;
using System.Text;

namespace BanActors.Storage;

/// <summary>
/// The SQL behind <see cref="BanJournal"/> and <see cref="BanSnapshotStore"/>: the two reads every starting user
/// actor makes, asked for many persistence ids in one statement. Plain ADO.NET on the engine's own database,
/// outside any transaction (a single SELECT sees one consistent state in SQLite's WAL mode and in PostgreSQL).
/// </summary>
internal static class RecoveryReads
{
    /// <summary>Most starting actors fit one batch; the statement stays far below every parameter limit.</summary>
    public const int MaxBatch = 500;

    /// <summary>
    /// A batched lookup of each persistence id's highest sequence number in one table (<paramref name="absent"/>
    /// for ids without rows); null for providers other than SQLite and PostgreSQL, which then read one by one.
    /// </summary>
    public static KeyedBatcher<long>? HighestPerId(string providerName, string connectionString, string? schema,
        string table, string idColumn, string sequenceColumn, long absent, CancellationToken stopping)
    {
        if (Connector(providerName, connectionString) is not { } connect) return null;
        var name = Table(schema, table);
        return new KeyedBatcher<long>((ids, token) => HighestAsync(connect, name, idColumn, sequenceColumn, ids, token),
            absent, MaxBatch, stopping);
    }

    internal static Func<DbConnection>? Connector(string providerName, string connectionString)
    {
        if (string.IsNullOrEmpty(connectionString)) return null;
        if (providerName.StartsWith("SQLite", StringComparison.OrdinalIgnoreCase))
            return () => StorageDrivers.For(StorageProvider.Sqlite).CreateConnection(connectionString);
        if (providerName.StartsWith("PostgreSQL", StringComparison.OrdinalIgnoreCase))
            return () => StorageDrivers.For(StorageProvider.PostgreSql).CreateConnection(connectionString);
        return null;
    }

    private static string Table(string? schema, string name) => Sql.Table(schema, name);

    private static string Quote(string identifier) => Sql.Quote(identifier);

    /// <summary>The highest sequence number of each id that has rows in <paramref name="table"/>; ids without rows are left out.</summary>
    private static async Task<IReadOnlyDictionary<string, long>> HighestAsync(Func<DbConnection> connect, string table,
        string idColumn, string sequenceColumn, IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, long>(ids.Count, StringComparer.Ordinal);
        await using var connection = connect();
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText =
            $"SELECT {Quote(idColumn)}, MAX({Quote(sequenceColumn)}) FROM {table} " +
            $"WHERE {Quote(idColumn)} IN ({Parameters(command, ids)}) GROUP BY {Quote(idColumn)}";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            found[reader.GetString(0)] = reader.GetInt64(1);
        return found;
    }

    private static string Parameters(DbCommand command, IReadOnlyCollection<string> values)
    {
        var names = new StringBuilder();
        var i = 0;
        foreach (var value in values)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = $"@p{i}";
            parameter.Value = value;
            command.Parameters.Add(parameter);
            if (i++ > 0) names.Append(',');
            names.Append(parameter.ParameterName);
        }
        return names.ToString();
    }
}
