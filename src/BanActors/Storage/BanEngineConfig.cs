using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Microsoft.Data.Sqlite;

namespace BanActors.Storage;

/// <summary>Builds the Akka configuration for an engine from the HOCON files embedded from <c>hocon/</c>.</summary>
internal static class BanEngineConfig
{
    public const string JournalPluginId = "akka.persistence.journal.sql";
    public const string SnapshotPluginId = "akka.persistence.snapshot-store.sql";
    public const string QueryPluginId = "akka.persistence.query.journal.sql";

    /// <summary>The engine's HOCON for <paramref name="storage"/>, with the connection string applied.</summary>
    public static Config For(StorageOptions storage)
    {
        var providerFile = storage.Provider switch
        {
            StorageProvider.Sqlite => "sqlite.conf",
            StorageProvider.PostgreSql => "postgres.conf",
            _ => throw new ArgumentOutOfRangeException(nameof(storage), storage.Provider, "unknown storage provider"),
        };
        var cs = Quote(storage.ConnectionString);
        var connection = ConfigurationFactory.ParseString($"""
            akka.persistence.journal.sql.connection-string = {cs}
            akka.persistence.snapshot-store.sql.connection-string = {cs}
            akka.persistence.query.journal.sql.connection-string = {cs}
            """);
        return connection
            .WithFallback(Embedded(providerFile))
            .WithFallback(Embedded("banactors.conf"))
            .WithFallback(Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration);
    }

    /// <summary>
    /// Everything an engine's own <see cref="ActorSystem"/> needs for <paramref name="storage"/>, for hosts that do not
    /// use Akka.Hosting: the HOCON of <see cref="For"/> under <paramref name="overrides"/>, plus the storage's setup
    /// (SQLite group commit, see <see cref="SqliteGroupCommit"/>), which <c>WithBanEngine</c> adds the same way.
    /// </summary>
    public static ActorSystemSetup SystemSetup(StorageOptions storage, Config? overrides = null)
    {
        var config = overrides is null ? For(storage) : overrides.WithFallback(For(storage));
        var bootstrap = BootstrapSetup.Create().WithConfig(config);
        return SqliteGroupCommit.For(storage) is { } sqlite ? bootstrap.And(sqlite) : ActorSystemSetup.Create(bootstrap);
    }

    /// <summary>One embedded file from <c>hocon/</c>, e.g. <c>cluster.conf</c>.</summary>
    public static Config Embedded(string fileName)
    {
        var name = $"BanActors.hocon.{fileName}";
        using var stream = typeof(BanEngineConfig).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Embedded HOCON '{name}' is missing");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }

    /// <summary>
    /// Makes the storage usable before the journal opens it: for SQLite, creates the folder and switches the
    /// file to WAL (persistent in the file; readers then never block the writer).
    /// </summary>
    public static void PrepareStorage(StorageOptions storage)
    {
        if (storage.Provider != StorageProvider.Sqlite) return;
        var builder = new SqliteConnectionStringBuilder(storage.ConnectionString);
        if (builder.Mode != SqliteOpenMode.Memory && !string.IsNullOrEmpty(builder.DataSource)
            && builder.DataSource != ":memory:")
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
            if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
        }
        using var connection = new SqliteConnection(storage.ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        command.ExecuteNonQuery();
    }

    /// <summary>A HOCON string literal of <paramref name="value"/>.</summary>
    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
