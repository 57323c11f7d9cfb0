using System.Data.Common;
using Akka.Actor.Setup;
using Akka.Persistence.Sql.Config;
using LinqToDB;
using LinqToDB.Interceptors;

namespace BanActors.Storage;

/// <summary>
/// SQLite settings that live on each connection rather than in the file, applied by linq2db every time the
/// journal, snapshot store or query side opens a connection. <c>synchronous=NORMAL</c> in WAL mode: a commit no
/// longer waits for fsync of the WAL (only checkpoints do); committed bans survive a crash of the process, and
/// only the last commits before a power loss or OS crash can be lost. Measured in bench/ (see docs/BENCHMARKS.md).
/// </summary>
public static class SqliteConnectionPragmas
{
    public const string SynchronousNormal = "PRAGMA synchronous=NORMAL;";

    /// <summary>
    /// An actor-system setup that gives every Akka.Persistence.Sql plugin linq2db options for
    /// <paramref name="storage"/> with <paramref name="pragmas"/> run on each opened connection; null when the
    /// storage is not SQLite. Add it to the system (<c>BootstrapSetup.And(...)</c> or Akka.Hosting's <c>AddSetup</c>).
    /// </summary>
    public static Setup? Setup(StorageOptions storage, string pragmas = SynchronousNormal)
    {
        if (storage.Provider != StorageProvider.Sqlite) return null;
        var options = new DataOptions()
            .UseConnectionString(ProviderName.SQLiteMS, storage.ConnectionString)
            .UseInterceptor(new PragmaInterceptor(pragmas));
        return new DataOptionsSetup(options);
    }

    internal sealed class PragmaInterceptor(string pragmas) : ConnectionInterceptor
    {
        public override void ConnectionOpened(ConnectionEventData eventData, DbConnection connection)
        {
            using var command = connection.CreateCommand();
            command.CommandText = pragmas;
            command.ExecuteNonQuery();
        }

        public override async Task ConnectionOpenedAsync(ConnectionEventData eventData, DbConnection connection,
            CancellationToken cancellationToken)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
