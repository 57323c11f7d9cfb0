using Akka.Event;
using Akka.Persistence;
using Akka.Persistence.Sql.Config;
using Akka.Persistence.Sql.Snapshot;

namespace BanActors.Storage;

/// <summary>
/// Akka.Persistence.Sql's snapshot store, with one change: a recovery's "latest snapshot" load first asks, for
/// many persistence ids in one query, which of them have a snapshot at all (<see cref="KeyedBatcher{TValue}"/>).
/// Most users have none (a user's first ban, or fewer than <c>Engine:SnapshotEvery</c> events), and they get
/// their empty answer without a query of their own; the others are loaded by the plugin as before. Saving,
/// deleting and every other selection criterion are the plugin's own. On one node, an id that certainly has no
/// snapshot (<see cref="KnownIds"/>) is answered without any query. See also <see cref="BanJournal"/>.
/// </summary>
internal sealed class BanSnapshotStore : SqlSnapshotStore
{
    // A snapshot may be taken at sequence number 0, so "none" is below every real one.
    private const long NoSnapshot = -1;
    private readonly KeyedBatcher<long>? _newest;
    private readonly KnownIds? _known;
    private readonly CancellationTokenSource _stopping = new();

    public BanSnapshotStore(Akka.Configuration.Config snapshotConfig) : base(snapshotConfig)
    {
        var config = new SnapshotConfig(snapshotConfig.WithFallback(Akka.Persistence.Sql.SqlPersistence.DefaultSnapshotConfiguration));
        var table = config.TableConfig.SnapshotTable;
        _newest = RecoveryReads.HighestPerId(config.ProviderName, config.ConnectionString, config.TableConfig.SchemaName,
            table.Name, table.ColumnNames.PersistenceId, table.ColumnNames.SequenceNumber, absent: NoSnapshot, _stopping.Token);
        _known = KnownIds.Start(snapshotConfig, Context.System.Settings.Config, config.ProviderName, config.ConnectionString,
            config.TableConfig.SchemaName, table.Name, table.ColumnNames.PersistenceId, Context.GetLogger(), _stopping.Token);
        KnownIds.Register(Context.System, _known, journal: false);
    }

    protected override async Task<SelectedSnapshot?> LoadAsync(string persistenceId, SnapshotSelectionCriteria criteria,
        CancellationToken cancellationToken)
    {
        var latest = criteria.MaxSequenceNr == long.MaxValue && criteria.MaxTimeStamp == DateTime.MaxValue;
        if (latest && _known?.CertainlyAbsent(persistenceId) == true) return null;
        if (_newest is not null && latest && await _newest.LookupAsync(persistenceId).ConfigureAwait(false) == NoSnapshot)
            return null;
        return await base.LoadAsync(persistenceId, criteria, cancellationToken).ConfigureAwait(false);
    }

    protected override Task SaveAsync(SnapshotMetadata metadata, object snapshot, CancellationToken cancellationToken)
    {
        _known?.Add(metadata.PersistenceId);
        return base.SaveAsync(metadata, snapshot, cancellationToken);
    }

    protected override void PostStop()
    {
        _stopping.Cancel();
        base.PostStop();
    }
}
