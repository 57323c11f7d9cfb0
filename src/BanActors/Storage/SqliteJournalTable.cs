using Akka.Actor;
using Akka.Persistence.Sql.Config;

namespace BanActors.Storage;

/// <summary>
/// A SQLite journal's event table as the engine's own readers of it (<see cref="JournalHighWater"/>,
/// <see cref="JournalEventRows"/>) name it: its configuration, its quoted name and columns. Null for other stores.
/// </summary>
internal sealed record SqliteJournalTable(JournalConfig Config, string Name)
{
    public JournalTableColumnNames Columns => Config.TableConfig.EventJournalTable.ColumnNames;

    public static SqliteJournalTable? For(ActorSystem system, string journalPluginId)
    {
        var config = new JournalConfig(system.Settings.Config.GetConfig(journalPluginId)
            .WithFallback(Akka.Persistence.Sql.SqlPersistence.DefaultJournalConfiguration));
        if (!config.ProviderName.StartsWith("SQLite", StringComparison.OrdinalIgnoreCase) || string.IsNullOrEmpty(config.ConnectionString))
            return null;
        return new SqliteJournalTable(config, Sql.Table(config.TableConfig.SchemaName, config.TableConfig.EventJournalTable.Name));
    }

    /// <summary>An open connection to the journal's file.</summary>
    public Task<System.Data.Common.DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        Sql.OpenAsync(StorageProvider.Sqlite, Config.ConnectionString, cancellationToken);
}
