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

    /// <summary>Adds the parameter <paramref name="name"/> (SQL NULL for null).</summary>
    public static void Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }
}
