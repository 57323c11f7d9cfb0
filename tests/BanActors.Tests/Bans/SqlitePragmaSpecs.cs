using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Persistence.Sql.Config;
using BanActors.Bans;
using BanActors.Hosting;
using BanActors.Storage;
using BanActors.Tests.Support;
using LinqToDB;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace BanActors.Tests.Bans;

public sealed class SqlitePragmaSpecs(ITestOutputHelper output) : DatabaseSpecs(output)
{
    [Fact]
    public void Synchronous_normal_is_opt_in()
    {
        Assert.DoesNotContain(SqliteGroupCommit.Interceptors(Database.Storage), i => i is SqliteConnectionPragmas.PragmaInterceptor);
        var normal = Database.Storage;
        normal.SqliteSynchronous = SqliteSynchronous.Normal;
        Assert.Contains(SqliteGroupCommit.Interceptors(normal), i => i is SqliteConnectionPragmas.PragmaInterceptor);
        Assert.Null(SqliteGroupCommit.For(new StorageOptions { Provider = StorageProvider.PostgreSql, SqliteSynchronous = SqliteSynchronous.Normal }));
    }

    [Fact]
    public void Group_commit_is_set_up_for_sqlite_only()
    {
        Assert.NotNull(SqliteGroupCommit.For(Database.Storage));
        Assert.Null(SqliteGroupCommit.For(new StorageOptions { Provider = StorageProvider.PostgreSql }));
        // Group commit relies on one journal writer at a time (see SqliteGroupCommit).
        var journal = BanEngineConfig.For(Database.Storage).GetConfig(BanEngineConfig.JournalPluginId);
        Assert.Equal(1, journal.GetInt("parallelism"));
    }

    [Fact]
    public async Task The_pragmas_run_on_the_connections_the_journal_opens()
    {
        var storage = Database.Storage;
        BanEngineConfig.PrepareStorage(storage);
        // user_version is stored in the file, so it shows from outside that the journal's connection ran the pragmas.
        var setup = new DataOptionsSetup(new DataOptions()
            .UseConnectionString(ProviderName.SQLiteMS, storage.ConnectionString)
            .UseInterceptor(new SqliteConnectionPragmas.PragmaInterceptor(SqliteConnectionPragmas.SynchronousNormal + " PRAGMA user_version=42;")));
        var bootstrap = BootstrapSetup.Create().WithConfig(BanEngineConfig.For(storage));
        var system = ActorSystem.Create("pragmas", ActorSystemSetup.Create(bootstrap, setup));
        try
        {
            var options = new BanEngineOptions { Storage = storage, AskTimeout = TimeSpan.FromSeconds(30) };
            var clock = EngineHost.NewClock();
            var engine = BanEngine.Create(BanEngineActors.Start(system, options, clock, LocalTopology.Instance), options, system, clock);
            await engine.BanAsync(new UserKey("app1", "u1"), 5);
        }
        finally
        {
            await system.Terminate();
        }

        using var connection = new SqliteConnection(storage.ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version;";
        Assert.Equal(42L, (long)command.ExecuteScalar()!);
    }

}
