using System.Data.Common;
using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;

namespace BanActors.Storage;

/// <summary>
/// The persistence ids that have rows in one table (the journal's events, or the snapshots), so that a recovery read
/// of an id that certainly has none is answered without a query. Filled once from the table, in the background, and
/// from then on by whoever writes the table in this process (<see cref="Add"/>, before the write starts). Until the
/// read of the table has finished, every id counts as "maybe present".
/// <para>
/// Sound only while this process is the table's only writer: one node. In a cluster another node writes too, so the
/// engine's HOCON turns it off there (<c>cluster.conf</c>), and it also stays off whenever the actor provider is the
/// cluster's. An id that has rows is never "certainly absent" (see <see cref="PersistenceIdFilter"/>).
/// </para>
/// </summary>
internal sealed class KnownIds
{
    /// <summary>The HOCON key, in the journal's and the snapshot store's sections.</summary>
    public const string ConfigKey = "answer-new-ids-from-memory";

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private static readonly ConditionalWeakTable<ActorSystem, KnownIds> Journals = new();
    private static readonly ConditionalWeakTable<ActorSystem, KnownIds> SnapshotStores = new();
    private readonly PersistenceIdFilter _ids = new();
    private volatile bool _complete;
    private long _answered;

    private KnownIds() { }

    /// <summary>True once the table's ids were all read; from then on <see cref="CertainlyAbsent"/> can say yes.</summary>
    public bool Complete => _complete;

    /// <summary>
    /// Starts reading the ids of <paramref name="table"/>; null when <paramref name="pluginConfig"/> turns it off, the
    /// system is a cluster, or the provider is neither SQLite nor PostgreSQL.
    /// </summary>
    public static KnownIds? Start(Config pluginConfig, Config systemConfig, string providerName, string connectionString,
        string? schema, string table, string idColumn, ILoggingAdapter log, CancellationToken stopping)
    {
        if (!pluginConfig.GetBoolean(ConfigKey, false)) return null;
        if (systemConfig.GetString("akka.actor.provider", "local").Contains("cluster", StringComparison.OrdinalIgnoreCase)) return null;
        if (RecoveryReads.Connector(providerName, connectionString) is not { } connect) return null;
        var known = new KnownIds();
        var sql = $"SELECT DISTINCT {Sql.Quote(idColumn)} FROM {Sql.Table(schema, table)}";
        _ = Task.Run(async () =>
        {
            // On a first start the plugin creates the table with its first use: until then the read fails and is
            // retried. Rows that this process writes meanwhile are added by their writers, so any successful read
            // completes the set.
            try
            {
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await known.ReadAsync(connect, sql, stopping).ConfigureAwait(false);
                        return;
                    }
                    catch (Exception ex) when (ex is DbException or InvalidOperationException)
                    {
                        if (attempt == 10) log.Info("The ids of {0} are not read yet ({1}); retrying every second", table, ex.Message);
                    }
                    await Task.Delay(RetryDelay, stopping).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                // The journal or the snapshot store stopped.
            }
        }, CancellationToken.None);
        return known;
    }

    private async Task ReadAsync(Func<DbConnection> connect, string sql, CancellationToken stopping)
    {
        await using var connection = connect();
        await connection.OpenAsync(stopping).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(stopping).ConfigureAwait(false);
        while (await reader.ReadAsync(stopping).ConfigureAwait(false)) Add(reader.GetString(0));
        _complete = true;
    }

    /// <summary>How many reads were answered "certainly absent" (for specs).</summary>
    public long Answered => Interlocked.Read(ref _answered);

    /// <summary>The journal's ids in <paramref name="system"/>, once its journal has started; null when off.</summary>
    public static KnownIds? OfJournal(ActorSystem system) => Journals.TryGetValue(system, out var known) ? known : null;

    /// <summary>The snapshot store's ids in <paramref name="system"/>, once it has started; null when off.</summary>
    public static KnownIds? OfSnapshotStore(ActorSystem system) =>
        SnapshotStores.TryGetValue(system, out var known) ? known : null;

    /// <summary>Makes <paramref name="known"/> findable through <see cref="OfJournal"/> or <see cref="OfSnapshotStore"/>.</summary>
    public static void Register(ActorSystem system, KnownIds? known, bool journal)
    {
        if (known is not null) (journal ? Journals : SnapshotStores).AddOrUpdate(system, known);
    }

    /// <summary>Records that <paramref name="persistenceId"/> has (or is about to have) rows.</summary>
    public void Add(string persistenceId) => _ids.Add(persistenceId);

    /// <summary>True only when the table certainly has no row of <paramref name="persistenceId"/>.</summary>
    public bool CertainlyAbsent(string persistenceId)
    {
        if (!_complete || _ids.MightContain(persistenceId)) return false;
        Interlocked.Increment(ref _answered);
        return true;
    }
}
