namespace BanActors.Storage;

/// <summary>Where the journal (and the offline messages) live.</summary>
public enum StorageProvider
{
    /// <summary>An embedded SQLite file; the default, created on first start.</summary>
    Sqlite,

    /// <summary>A PostgreSQL server (15 or later); for production and clusters.</summary>
    PostgreSql,
}

/// <summary>The one place that decides the storage: provider and connection string.</summary>
public sealed class StorageOptions
{
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    public string ConnectionString { get; set; } = "Data Source=data/banactors.db";
}
