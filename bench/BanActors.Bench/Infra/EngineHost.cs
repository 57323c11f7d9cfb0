using Akka.Actor;
using Akka.Configuration;
using BanActors.Bans;
using BanActors.Hosting;
using BanActors.Storage;

namespace BanActors.Bench.Infra;

/// <summary>The engine in this process, as an IM backend would embed it: one actor system, the facade, a SQLite file.</summary>
public sealed class EngineHost : IAsyncDisposable
{
    private EngineHost(ActorSystem system, BanEngine engine, BanEngineOptions options)
    {
        System = system;
        Engine = engine;
        Options = options;
    }

    public ActorSystem System { get; }
    public BanEngine Engine { get; }
    public BanEngineOptions Options { get; }

    /// <summary>
    /// Akka's own log level for bench runs. The engine logs every ban at Info; at tens of thousands of bans a
    /// second a console line per ban measures the console, not the engine, so runs use WARNING unless
    /// <c>--akka-loglevel</c> says otherwise.
    /// </summary>
    public static string LogLevel { get; set; } = "WARNING";

    /// <summary>
    /// FULL: the engine as the hosts ship it today (SQLite's default). NORMAL: <c>Storage:SqliteSynchronous = Normal</c>
    /// (<c>--journal-sync normal</c>). Either way the system gets <see cref="BanEngineConfig.SystemSetup"/>, as the hosts do.
    /// </summary>
    public static string JournalSync { get; set; } = "FULL";

    public static string ConnectionString(string dbPath) => $"Data Source={dbPath}";

    public static Task<EngineHost> StartAsync(string dbPath, TimeProvider? clock = null, string? extraHocon = null)
    {
        var options = new BanEngineOptions
        {
            Storage = { Provider = StorageProvider.Sqlite, ConnectionString = ConnectionString(dbPath) },
            AskTimeout = TimeSpan.FromSeconds(30),
        };
        if (clock is not null) options.Clock = clock;
        BanEngineConfig.PrepareStorage(options.Storage);
        if (JournalSync.Equals("NORMAL", StringComparison.OrdinalIgnoreCase))
            options.Storage.SqliteSynchronous = SqliteSynchronous.Normal;
        var overrides = ConfigurationFactory.ParseString($"""
            akka.loggers = ["BanActors.Bench.Infra.BenchLogger, BanActors.Bench"]
            akka.loglevel = {LogLevel}
            akka.stdout-loglevel = {LogLevel}
            akka.log-dead-letters = off
            akka.log-dead-letters-during-shutdown = off
            {extraHocon ?? ""}
            """);
        // The same setup WithBanEngine gives the hosts: group commit, plus the NORMAL pragma when asked for.
        var system = ActorSystem.Create("bench", BanEngineConfig.SystemSetup(options.Storage, overrides));
        var actors = BanEngineActors.StartLocal(system, options);
        return Task.FromResult(new EngineHost(system, new BanEngine(actors, options.AskTimeout), options));
    }

    public async Task<bool> IsIndexReadyAsync() =>
        await Engine.Actors.Index.Ask<bool>(IsIndexReady.Instance, TimeSpan.FromSeconds(30)).ConfigureAwait(false);

    public async Task WaitIndexReadyAsync(TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (!await IsIndexReadyAsync().ConfigureAwait(false))
        {
            if (DateTime.UtcNow > until) throw new TimeoutException("the ban index did not become ready");
            await Task.Delay(10).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await System.Terminate().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
    }
}

/// <summary>A temporary folder for one scenario's SQLite file; deleted afterwards unless --keep.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir(string name)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"banactors-bench-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public static bool Keep { get; set; }

    public void Dispose()
    {
        if (Keep) return;
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}
