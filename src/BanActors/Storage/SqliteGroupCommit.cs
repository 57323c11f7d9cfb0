using System.Data.Common;
using Akka.Actor.Setup;
using Akka.Persistence.Sql.Config;
using LinqToDB;
using LinqToDB.Interceptors;

namespace BanActors.Storage;

/// <summary>
/// Group commit for the SQLite journal: concurrent single-event writes of many user actors are committed in one
/// transaction instead of one transaction each.
/// <para>
/// Akka.Persistence.Sql already queues every write into a stream (<c>BatchWeighted(batch-size)</c> →
/// <c>SelectAsync(parallelism, write)</c>) that would merge whatever piles up while a write is in progress. With
/// SQLite it never did: Microsoft.Data.Sqlite has no asynchronous I/O, so each "async" write (BEGIN, INSERT,
/// COMMIT and its fsync) ran to completion synchronously inside the stream's own actor and returned a finished
/// task. The write stage therefore never back-pressured, nothing ever piled up, and every event became its own
/// transaction at any <c>parallelism</c> or <c>batch-size</c> (measured: 1.00 row per INSERT).
/// </para>
/// <para>
/// This interceptor yields when the plugins open a connection (before a write's BEGIN), so the rest of the write —
/// BEGIN, INSERT and COMMIT — runs on the thread pool and the stream gets back an unfinished task.
/// While that transaction commits, the writes arriving meanwhile are merged by <c>BatchWeighted</c> (up to
/// <c>batch-size</c>) and go out as one multi-row INSERT in the next transaction. Each writer's task still completes
/// only after the transaction holding its rows has committed, so a ban is acknowledged only once it is durable;
/// SQL, tables and isolation levels are unchanged. Requires <c>parallelism = 1</c> for the SQLite journal
/// (sqlite.conf): SQLite has one writer at a time, and a second concurrent writer gets SQLITE_BUSY, which
/// Microsoft.Data.Sqlite answers by sleeping (measured: ~300–900 ms latencies at parallelism 2 or 3).
/// Reads open connections too and take the same one extra hop; their SQL is not touched.
/// </para>
/// Measured in bench/ (docs/STORAGE.md, "Group commit"; figures in docs/BENCHMARKS.md).
/// </summary>
internal static class SqliteGroupCommit
{
    /// <summary>
    /// The actor-system setup for a SQLite engine: group commit, plus the pragmas that <paramref name="storage"/>
    /// asks for (<see cref="SqliteConnectionPragmas"/>); null when the storage is not SQLite. Hosts add it with
    /// Akka.Hosting's <c>AddSetup</c> (done by <c>WithBanEngine</c>) or <c>BootstrapSetup.And(...)</c>.
    /// </summary>
    public static Setup? For(StorageOptions storage)
    {
        if (storage.Provider != StorageProvider.Sqlite) return null;
        var options = new DataOptions().UseConnectionString(ProviderName.SQLiteMS, storage.ConnectionString);
        foreach (var interceptor in Interceptors(storage)) options = options.UseInterceptor(interceptor);
        return new DataOptionsSetup(options);
    }

    /// <summary>What <see cref="For"/> installs: group commit always, the NORMAL pragma only when asked for.</summary>
    internal static IReadOnlyList<IInterceptor> Interceptors(StorageOptions storage) =>
        storage.SqliteSynchronous == SqliteSynchronous.Normal
            ? [new YieldOnOpenInterceptor(), new SqliteConnectionPragmas.PragmaInterceptor(SqliteConnectionPragmas.SynchronousNormal)]
            : [new YieldOnOpenInterceptor()];

    /// <summary>Moves the rest of each plugin call off the caller's thread; see <see cref="SqliteGroupCommit"/>.</summary>
    internal sealed class YieldOnOpenInterceptor : ConnectionInterceptor
    {
        public override async Task ConnectionOpenedAsync(ConnectionEventData eventData, DbConnection connection,
            CancellationToken cancellationToken) =>
            // Before BEGIN, not inside the transaction: the write lock is then taken and released (BEGIN, INSERT,
            // COMMIT) in one synchronous stretch on a pool thread, never held across a thread-pool hop while other
            // writers (snapshot store, offline messages) busy-wait on it.
            await Task.Yield();
    }
}
