using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Event;
using Akka.Persistence;
using Akka.Persistence.Sql.Config;
using Akka.Persistence.Sql.Journal;

namespace BanActors.Storage;

/// <summary>
/// Akka.Persistence.Sql's journal, with one change: the "highest sequence number" read that starts every recovery
/// is answered for many persistence ids with one query (<see cref="KeyedBatcher{TValue}"/>) instead of one query
/// each. A burst of bans of new users starts a burst of user actors, and that read was one of the two database
/// round trips each of them paid before its first write (the other is the snapshot load, see
/// <see cref="BanSnapshotStore"/>). On one node, an id that certainly has no event yet (<see cref="KnownIds"/>) is
/// answered without any query. Writes, replays and queries are the plugin's own.
/// <para>
/// Falls back to the plugin's read when the read does not start at zero (after a snapshot), in the plugin's
/// SQL-common compatibility mode (whose answer also reads the metadata table), for providers other than SQLite and
/// PostgreSQL, and while a write of that persistence id is still in flight (the plugin then waits for it, so
/// that a recovery never misses a write that was acknowledged).
/// </para>
/// </summary>
internal sealed class BanJournal : SqlWriteJournal
{
    private static readonly Task<long> NoEvents = Task.FromResult(0L);
    private readonly KeyedBatcher<long>? _highest;
    private readonly KnownIds? _known;
    private readonly ConcurrentDictionary<string, Task> _writing = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    public BanJournal(Akka.Configuration.Config journalConfig) : base(journalConfig)
    {
        var config = new JournalConfig(journalConfig.WithFallback(Akka.Persistence.Sql.SqlPersistence.DefaultJournalConfiguration));
        if (config.DaoConfig.SqlCommonCompatibilityMode) return;
        var table = config.TableConfig.EventJournalTable;
        _highest = RecoveryReads.HighestPerId(config.ProviderName, config.ConnectionString, config.TableConfig.SchemaName,
            table.Name, table.ColumnNames.PersistenceId, table.ColumnNames.SequenceNumber, absent: 0, _stopping.Token);
        _known = KnownIds.Start(journalConfig, Context.System.Settings.Config, config.ProviderName, config.ConnectionString,
            config.TableConfig.SchemaName, table.Name, table.ColumnNames.PersistenceId, Context.GetLogger(), _stopping.Token);
        KnownIds.Register(Context.System, _known, journal: true);
    }

    public override Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr,
        CancellationToken cancellationToken)
    {
        if (_highest is null || fromSequenceNr != 0 || _writing.ContainsKey(persistenceId))
            return base.ReadHighestSequenceNrAsync(persistenceId, fromSequenceNr, cancellationToken);
        // A user's first ban: its id certainly has no event, so its actor starts at 0 without a query.
        return _known?.CertainlyAbsent(persistenceId) == true ? NoEvents : _highest.LookupAsync(persistenceId);
    }

    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages,
        CancellationToken cancellationToken)
    {
        var list = messages as IReadOnlyList<AtomicWrite> ?? messages.ToList();
        // Known before the write starts: a recovery of this id from now on takes the query.
        if (_known is not null)
            foreach (var atomic in list) _known.Add(atomic.PersistenceId);
        var write = base.WriteMessagesAsync(list, cancellationToken);
        if (list.Count > 0 && !write.IsCompleted)
        {
            var persistenceId = list[0].PersistenceId;
            _writing[persistenceId] = write;
            write.ContinueWith(_ => _writing.TryRemove(new KeyValuePair<string, Task>(persistenceId, write)),
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        return write;
    }

    protected override void PostStop()
    {
        _stopping.Cancel();
        base.PostStop();
    }
}
