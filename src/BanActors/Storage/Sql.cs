using System.Data.Common;

namespace BanActors.Storage;

/// <summary>The ADO.NET plumbing that the engine's own tables (ledger, feed, idempotency) share on both providers.</summary>
internal static class Sql
{
    /// <summary>An open connection of <paramref name="provider"/>; disposed again if opening fails.</summary>
    public static async Task<DbConnection> OpenAsync(StorageProvider provider, string connectionString, CancellationToken cancellationToken)
    {
        var connection = StorageDrivers.For(provider).CreateConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>A quoted SQL identifier (the same quoting on SQLite and PostgreSQL).</summary>
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>A quoted table name, with its schema when there is one.</summary>
    public static string Table(string? schema, string name) =>
        string.IsNullOrEmpty(schema) ? Quote(name) : $"{Quote(schema)}.{Quote(name)}";

    /// <summary>Adds the parameter <paramref name="name"/> (SQL NULL for null).</summary>
    public static void Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }
}
