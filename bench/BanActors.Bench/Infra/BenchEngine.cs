using BanActors.Testing;

namespace BanActors.Bench.Infra;

/// <summary>
/// The bench's settings for the engine in this process (the shared <see cref="EngineHost"/> of the tests, as an IM
/// backend would embed it: one actor system, the facade, a SQLite file).
/// </summary>
public static class BenchEngine
{
    /// <summary>
    /// Akka's own log level for bench runs. The engine logs every ban at Info; at tens of thousands of bans a
    /// second a console line per ban measures the console, not the engine, so runs use WARNING unless
    /// <c>--akka-loglevel</c> says otherwise.
    /// </summary>
    public static string LogLevel { get; set; } = "WARNING";

    /// <summary>
    /// FULL: the engine as the hosts ship it (SQLite's default). NORMAL: <c>Storage:SqliteSynchronous = Normal</c>
    /// (<c>--journal-sync normal</c>).
    /// </summary>
    public static string JournalSync { get; set; } = "FULL";

    /// <summary>HOCON over the in-process engine's configuration (<c>--hocon</c>), e.g. to try a setting.</summary>
    public static string ExtraHocon { get; set; } = "";

    /// <summary>The bench's loggers and log levels, as HOCON, then <see cref="ExtraHocon"/>.</summary>
    public static string Hocon => BaseHocon + "\n" + ExtraHocon;

    private static string BaseHocon => $"""
        akka.loggers = ["BanActors.Bench.Infra.BenchLogger, BanActors.Bench"]
        akka.loglevel = {LogLevel}
        akka.stdout-loglevel = {LogLevel}
        akka.log-dead-letters = off
        akka.log-dead-letters-during-shutdown = off
        """;

    internal static Task<EngineHost> StartAsync(string dbPath, TimeProvider? clock = null, string? extraHocon = null,
        IReadOnlyList<IBanEventHandler>? handlers = null, Action<BanEngineOptions>? configure = null)
    {
        var storage = new StorageOptions { Provider = StorageProvider.Sqlite, ConnectionString = $"Data Source={dbPath}" };
        if (JournalSync.Equals("NORMAL", StringComparison.OrdinalIgnoreCase)) storage.SqliteSynchronous = SqliteSynchronous.Normal;
        return Task.FromResult(EngineHost.Start(storage, clock ?? TimeProvider.System, configure, Hocon + "\n" + (extraHocon ?? ""),
            handlers));
    }

    internal static async Task WaitIndexReadyAsync(this EngineHost host, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        while (!await host.IsIndexReadyAsync().ConfigureAwait(false))
        {
            if (cancel.IsCancellationRequested) throw new TimeoutException("the ban index did not become ready");
            await Task.Delay(10).ConfigureAwait(false);
        }
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
