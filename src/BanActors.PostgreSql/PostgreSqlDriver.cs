using System.Data.Common;
using BanActors.Messaging;
using BanActors.Storage;
using Npgsql;

namespace BanActors.PostgreSql;

/// <summary>The PostgreSQL side of <see cref="StorageProvider.PostgreSql"/>; created by <see cref="StorageDrivers"/> by name.</summary>
internal sealed class PostgreSqlDriver : IStorageDriver
{
    public DbConnection CreateConnection(string connectionString) => new NpgsqlConnection(connectionString);

    public IOfflineMessageStore CreateOfflineMessageStore(string connectionString) => new PostgreSqlOfflineMessageStore(connectionString);
}
