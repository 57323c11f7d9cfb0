namespace BanActors;

/// <summary>Where the journal (and the offline messages) live.</summary>
public enum StorageProvider
{
    /// <summary>An embedded SQLite file; the default, created on first start.</summary>
    Sqlite,

    /// <summary>A PostgreSQL server (15 or later); for production and clusters. Needs the BanActors.PostgreSql package.</summary>
    PostgreSql,
}

/// <summary>When a SQLite commit waits for the disk (SQLite's <c>PRAGMA synchronous</c>, in WAL mode).</summary>
public enum SqliteSynchronous
{
    /// <summary>Every commit is fsynced: an acknowledged ban survives a power loss. The default.</summary>
    Full,

    /// <summary>
    /// Commits reach the OS, checkpoints are fsynced: an acknowledged ban survives a crash of the process, but the
    /// last commits before a power loss or OS crash can be lost. See docs/STORAGE.md.
    /// </summary>
    Normal,
}

/// <summary>The one place that decides the storage: provider and connection string.</summary>
public sealed class StorageOptions
{
    /// <summary>SQLite (built in) or PostgreSQL (needs the BanActors.PostgreSql package).</summary>
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>The ADO.NET connection string of <see cref="Provider"/>; a relative SQLite path is under the working directory.</summary>
    public string ConnectionString { get; set; } = "Data Source=data/banactors.db";

    /// <summary>SQLite only: how durable each commit is; see <see cref="BanActors.SqliteSynchronous"/>.</summary>
    public SqliteSynchronous SqliteSynchronous { get; set; } = SqliteSynchronous.Full;
}
