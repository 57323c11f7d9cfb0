using System.Data.Common;
using BanActors.Messaging;
using Microsoft.Data.Sqlite;

namespace BanActors.Storage;

/// <summary>
/// What a storage provider supplies beyond its HOCON: connections for the engine's own tables and the offline
/// message store. SQLite is built in; PostgreSQL comes from the <c>BanActors.PostgreSql</c> package, so a SQLite-only
/// host never loads Npgsql.
/// </summary>
internal interface IStorageDriver
{
    DbConnection CreateConnection(string connectionString);

    IOfflineMessageStore CreateOfflineMessageStore(string connectionString);
}

/// <summary>The one place that maps a <see cref="StorageProvider"/> to its driver.</summary>
internal static class StorageDrivers
{
    // Found by name, as Akka finds its journal plugins: choosing StorageProvider.PostgreSql is all a host does.
    private const string PostgreSqlDriverType = "BanActors.PostgreSql.PostgreSqlDriver, BanActors.PostgreSql";

    private static readonly Lazy<IStorageDriver> PostgreSql = new(() => Load(PostgreSqlDriverType, "BanActors.PostgreSql"));

    public static IStorageDriver For(StorageProvider provider) => provider switch
    {
        StorageProvider.Sqlite => SqliteDriver.Instance,
        StorageProvider.PostgreSql => PostgreSql.Value,
        _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "unknown storage provider"),
    };

    private static IStorageDriver Load(string typeName, string package)
    {
        var type = Type.GetType(typeName, throwOnError: false)
            ?? throw new InvalidOperationException(
                $"This storage provider needs the {package} package: add a PackageReference to {package}.");
        return (IStorageDriver)Activator.CreateInstance(type, nonPublic: true)!;
    }

    private sealed class SqliteDriver : IStorageDriver
    {
        public static readonly SqliteDriver Instance = new();

        public DbConnection CreateConnection(string connectionString) => new SqliteConnection(connectionString);

        public IOfflineMessageStore CreateOfflineMessageStore(string connectionString) => new SqliteOfflineMessageStore(connectionString);
    }
}
