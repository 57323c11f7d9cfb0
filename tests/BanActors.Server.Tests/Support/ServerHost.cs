using System.Collections.Concurrent;
using Akka.Hosting;
using BanActors.Hosting;
using BanActors.Server.Gateway;
using BanActors.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace BanActors.Server.Tests.Support;

/// <summary>An app configured in a test server.</summary>
public sealed record TestApp(string AppKey, string AppSecret);

/// <summary>
/// The server as Program.cs composes it (API and IM gateway), on a real Kestrel bound to 127.0.0.1 on a free
/// port, with the real engine on a SQLite file (in a fresh temporary folder unless the test brings one, e.g. to
/// restart on the same database) and a fake clock shared by the engine, the API and the gateway.
/// </summary>
public sealed class ServerHost : IAsyncDisposable
{
    /// <summary>Where the fake clock starts: a whole second, so end times format exactly.</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    private readonly bool _ownsFolder;

    private ServerHost(WebApplication app, FakeTimeProvider clock, string folder, bool ownsFolder, Uri address,
        LogCapture logs)
    {
        _ownsFolder = ownsFolder;
        App = app;
        Clock = clock;
        Folder = folder;
        Address = address;
        Logs = logs;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public WebApplication App { get; }

    public FakeTimeProvider Clock { get; }

    public string Folder { get; }

    public string DatabasePath => Path.Combine(Folder, "bans.db");

    public Uri Address { get; }

    public HttpClient Http { get; }

    public LogCapture Logs { get; }

    public IBanEngine Engine => App.Services.GetRequiredService<IBanEngine>();

    public ISessionRegistry Sessions => App.Services.GetRequiredService<ISessionRegistry>();

    public RongCloudClient Client(TestApp app) => new(Http, app.AppKey, app.AppSecret, Clock);

    /// <param name="apps">The apps in <c>BanActors:Apps</c>.</param>
    /// <param name="settings">More configuration, e.g. <c>BanActors:TimeZone</c>.</param>
    /// <param name="hocon">Akka configuration put in front of the engine's.</param>
    /// <param name="databaseFolder">The folder of the SQLite file, kept when the host stops; null: a fresh one, removed.</param>
    /// <param name="clock">The clock; null: a new one at <see cref="Start"/>.</param>
    public static async Task<ServerHost> StartAsync(IReadOnlyList<TestApp> apps,
        IReadOnlyDictionary<string, string?>? settings = null, string? hocon = null, string? databaseFolder = null,
        FakeTimeProvider? clock = null)
    {
        var ownsFolder = databaseFolder is null;
        var folder = databaseFolder ?? Path.Combine(Path.GetTempPath(), "banactors-server-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var config = new Dictionary<string, string?>
        {
            ["BanActors:Storage:Provider"] = "Sqlite",
            ["BanActors:Storage:ConnectionString"] = $"Data Source={Path.Combine(folder, "bans.db")}",
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:Microsoft"] = "Warning",
        };
        for (var i = 0; i < apps.Count; i++)
        {
            config[$"BanActors:Apps:{i}:AppKey"] = apps[i].AppKey;
            config[$"BanActors:Apps:{i}:AppSecret"] = apps[i].AppSecret;
        }
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) config[key] = value;

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = folder,
            EnvironmentName = "Testing",
        });
        builder.Configuration.AddInMemoryCollection(config);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var logs = new LogCapture();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);

        clock ??= new FakeTimeProvider(Start);
        // As in Program.cs.
        builder.AddBanActorsServer(hocon is null ? null : (akka, _) => akka.AddHocon(hocon, HoconAddMode.Prepend));
        builder.AddImGateway();
        // Registered after AddBanActorsServer, as a test of an existing host would: the engine must still use it.
        builder.Services.AddSingleton<TimeProvider>(clock);

        var app = builder.Build();
        try
        {
            app.MapBanActorsApi();
            app.MapImGateway();
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            SqliteConnection.ClearAllPools();
            if (ownsFolder) Directory.Delete(folder, recursive: true);
            throw;
        }
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>()
            .Addresses.Single();
        var host = new ServerHost(app, clock, folder, ownsFolder, new Uri(address), logs);
        await host.WaitUntilIndexReadyAsync();
        return host;
    }

    // The block list answers only once the index has read the journal; waiting here keeps tests' timings honest.
    private async Task WaitUntilIndexReadyAsync()
    {
        var engine = (BanEngine)Engine;
        for (var i = 0; i < 200; i++)
        {
            if (await Akka.Actor.Futures.Ask<bool>(engine.Actors.Index, BanActors.Bans.IsIndexReady.Instance, TimeSpan.FromSeconds(5)))
                return;
            await Task.Delay(25);
        }
        throw new TimeoutException("the ban index did not become ready");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20))) await App.StopAsync(timeout.Token);
        await App.DisposeAsync();
        SqliteConnection.ClearAllPools();
        if (!_ownsFolder) return;
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a pool that outlived the host; the temp folder is cleaned by the OS.
        }
    }
}

/// <summary>Keeps every log line a server wrote, to check that none carries a secret.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}" + Fields(state));

        // The structured fields too: a secret may sit in a field that the message does not show.
        private static string Fields<TState>(TState state) => state is IEnumerable<KeyValuePair<string, object?>> fields
            ? " {" + string.Join(", ", fields.Select(f => $"{f.Key}={f.Value}")) + "}"
            : "";
    }
}
