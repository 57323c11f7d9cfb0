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

namespace BanActors.Testing;

/// <summary>A temporary folder holding one engine's SQLite file; deleted when disposed.</summary>
internal sealed class TempDatabase : IDisposable
{
    public TempDatabase()
    {
        Folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "banactors-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; }

    /// <summary>The SQLite file.</summary>
    public string Path => System.IO.Path.Combine(Folder, "bans.db");

    public StorageOptions Storage => new()
    {
        Provider = StorageProvider.Sqlite,
        ConnectionString = $"Data Source={Path}",
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
/// One "process" of the engine on one node, as the tests and the bench run it: an ActorSystem on a SQLite file with
/// the engine started the way <c>WithBanEngine</c> starts it. Disposing it is a shutdown; a new host on the same
/// database is a restart.
/// </summary>
internal sealed class EngineHost : IAsyncDisposable
{
    public static readonly DateTimeOffset Epoch = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    private EngineHost(ActorSystem system, BanEngine engine, BanEngineOptions options, TimeProvider time)
    {
        System = system;
        Engine = engine;
        Options = options;
        Time = time;
    }

    public ActorSystem System { get; }

    public BanEngine Engine { get; }

    public BanEngineOptions Options { get; }

    /// <summary>The engine's clock.</summary>
    public TimeProvider Time { get; }

    /// <summary>The engine's clock when a spec gave it a <see cref="FakeTimeProvider"/> to move.</summary>
    public FakeTimeProvider Clock => (FakeTimeProvider)Time;

    /// <param name="extraHocon">HOCON over the engine's own (log levels, loggers, timings).</param>
    /// <param name="handlers">The event feed's handlers, as DI would give them.</param>
    public static EngineHost Start(StorageOptions storage, TimeProvider clock, Action<BanEngineOptions>? configure = null,
        string? extraHocon = null, IReadOnlyList<IBanEventHandler>? handlers = null)
    {
        var options = new BanEngineOptions
        {
            Storage = storage,
            AskTimeout = TimeSpan.FromSeconds(30),
        };
        configure?.Invoke(options);
        BanEngineConfig.PrepareStorage(options.Storage);
        var overrides = ConfigurationFactory.ParseString(extraHocon ?? "")
            .WithFallback(ConfigurationFactory.ParseString("akka.loglevel = WARNING"));
        var system = ActorSystem.Create("engine-" + Guid.NewGuid().ToString("N")[..8],
            BanEngineConfig.SystemSetup(options.Storage, overrides));
        var actors = BanEngineActors.Start(system, options, clock, LocalTopology.Instance, handlers);
        return new EngineHost(system, BanEngine.Create(actors, options, system, clock), options, clock);
    }

    public static EngineHost Start(TempDatabase database, TimeProvider clock, Action<BanEngineOptions>? configure = null,
        string? extraHocon = null, IReadOnlyList<IBanEventHandler>? handlers = null) =>
        Start(database.Storage, clock, configure, extraHocon, handlers);

    /// <summary>The engine's event feed, as DI gives it.</summary>
    public IBanEventFeed Feed => new BanActors.Feed.BanEventFeed(new FeedStore(new LedgerStore(Options.Storage)), System,
        TimeSpan.FromMilliseconds(200));

    public static FakeTimeProvider NewClock() => new(Epoch);

    public async Task<bool> IsIndexReadyAsync() =>
        await Engine.Actors.Index.Ask<bool>(IsIndexReady.Instance, TimeSpan.FromSeconds(30)).ConfigureAwait(false);

    public async Task WaitUntilIndexReadyAsync()
    {
        for (var attempt = 0; attempt < 600; attempt++)
        {
            if (await IsIndexReadyAsync().ConfigureAwait(false)) return;
            await Task.Delay(50).ConfigureAwait(false);
        }
        throw new TimeoutException("the ban index never became ready");
    }

    /// <summary>Who holds the wake-up of each running ban (the live actor, or the index).</summary>
    public Task<ExpiryHolders> ExpiryHoldersAsync() =>
        Engine.Actors.Index.Ask<ExpiryHolders>(GetExpiryHolders.Instance, TimeSpan.FromSeconds(10));

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
