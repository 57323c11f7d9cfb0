using System.Data.Common;
using LinqToDB.Interceptors;

namespace BanActors.Storage;

/// <summary>
/// SQLite settings that live on each connection rather than in the file, applied by linq2db every time the
/// journal, snapshot store or query side opens a connection (installed by <see cref="SqliteGroupCommit.For"/>). <c>synchronous=NORMAL</c> in WAL mode: a commit no
/// longer waits for fsync of the WAL (only checkpoints do); committed bans survive a crash of the process, and
/// only the last commits before a power loss or OS crash can be lost. Measured in bench/ (see docs/BENCHMARKS.md).
/// </summary>
internal static class SqliteConnectionPragmas
{
    public const string SynchronousNormal = "PRAGMA synchronous=NORMAL;";

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
