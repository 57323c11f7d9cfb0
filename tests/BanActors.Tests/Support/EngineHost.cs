using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using BanActors.Bans;
using BanActors.Hosting;
using BanActors.Routing;
using BanActors.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace BanActors.Tests.Support;

/// <summary>A temporary folder holding one engine's SQLite file; deleted when disposed.</summary>
public sealed class TempDatabase : IDisposable
{
    public TempDatabase()
    {
        Folder = Path.Combine(Path.GetTempPath(), "banactors-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; }

    public StorageOptions Storage => new()
    {
        Provider = StorageProvider.Sqlite,
        ConnectionString = $"Data Source={Path.Combine(Folder, "bans.db")}",
    };

    /// <summary>The single value of <paramref name="sql"/>, read straight from the file (not through the engine).</summary>
    public long Scalar(string sql)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar());
    }

    /// <summary>Runs <paramref name="sql"/> on the file, behind the engine's back.</summary>
    public void Execute(string sql)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Every row of <paramref name="sql"/>, each read by <paramref name="row"/>.</summary>
    public List<T> Rows<T>(string sql, Func<SqliteDataReader, T> row)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read()) rows.Add(row(reader));
        return rows;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(Storage.ConnectionString);
        connection.Open();
        return connection;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>
/// One "process" of the engine: an ActorSystem on a SQLite file with the engine started. Disposing it is a
/// shutdown; a new host on the same database is a restart.
/// </summary>
public sealed class EngineHost : IAsyncDisposable
{
    public static readonly DateTimeOffset Epoch = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    private EngineHost(ActorSystem system, BanEngine engine, BanEngineOptions options)
    {
        System = system;
        Engine = engine;
        Options = options;
    }

    public ActorSystem System { get; }

    public BanEngine Engine { get; }

    public BanEngineOptions Options { get; }

    public FakeTimeProvider Clock => (FakeTimeProvider)Options.Clock;

    public static EngineHost Start(TempDatabase database, FakeTimeProvider clock, Action<BanEngineOptions>? configure = null,
        string? extraHocon = null)
    {
        var options = new BanEngineOptions
        {
            Storage = database.Storage,
            Clock = clock,
            AskTimeout = TimeSpan.FromSeconds(30),
        };
        configure?.Invoke(options);
        BanEngineConfig.PrepareStorage(options.Storage);
        var overrides = ConfigurationFactory.ParseString(extraHocon ?? "")
            .WithFallback(ConfigurationFactory.ParseString("akka.loglevel = WARNING"));
        var system = ActorSystem.Create("engine-" + Guid.NewGuid().ToString("N")[..8],
            BanEngineConfig.SystemSetup(options.Storage, overrides));
        var actors = BanEngineActors.StartLocal(system, options);
        return new EngineHost(system, new BanEngine(actors, options.AskTimeout), options);
    }

    public static FakeTimeProvider NewClock() => new(Epoch);

    public async Task WaitUntilIndexReadyAsync()
    {
        for (var attempt = 0; attempt < 600; attempt++)
        {
            if (await Engine.Actors.Index.Ask<bool>(IsIndexReady.Instance, TimeSpan.FromSeconds(10))) return;
            await Task.Delay(50);
        }
        throw new TimeoutException("the ban index never became ready");
    }

    public Task<int> LiveUserActorsAsync() =>
        Engine.Actors.Bans.Ask<int>(BanRouter.GetChildCount.Instance, TimeSpan.FromSeconds(5));

    /// <summary>The events stored for one user, read back from the journal.</summary>
    public async Task<IReadOnlyList<object>> StoredEventsAsync(UserKey user)
    {
        var journal = PersistenceQuery.Get(System).ReadJournalFor<SqlReadJournal>(BanEngineConfig.QueryPluginId);
        var envelopes = await journal.CurrentEventsByPersistenceId(user.PersistenceId, 0, long.MaxValue)
            .RunWith(Sink.Seq<EventEnvelope>(), System.Materializer());
        return envelopes.Select(e => e.Event).ToList();
    }

    public async ValueTask DisposeAsync() => await System.Terminate();
}
