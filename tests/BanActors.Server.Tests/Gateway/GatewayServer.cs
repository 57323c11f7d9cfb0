using System.Net.Http.Json;
using System.Text.Json;
using BanActors.Bans;
using BanActors.Hosting;
using BanActors.Messaging;
using BanActors.Server.Gateway;
using BanActors.Server.Hosting;
using BanActors.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace BanActors.Server.Tests.Gateway;

/// <summary>
/// The standalone server composed as in Program.cs, on a real Kestrel at 127.0.0.1 (a free port), on a SQLite
/// file, with the engine and API on a fake clock the test moves.
/// </summary>
public sealed class GatewayServer : IAsyncDisposable
{
    public const string AppKey = "gatewaytest";
    public const string AppSecret = "gateway-test-secret";

    private readonly WebApplication _app;
    private readonly HttpClient _http;

    private GatewayServer(WebApplication app, Uri baseUri)
    {
        _app = app;
        BaseUri = baseUri;
        _http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri BaseUri { get; }

    public IServiceProvider Services => _app.Services;

    public IBanEngine Engine => Services.GetRequiredService<IBanEngine>();

    public RecordingPushNotifier Pushes => Services.GetRequiredService<RecordingPushNotifier>();

    public IOfflineMessageStore Store => Services.GetRequiredService<IOfflineMessageStore>();

    public static UserKey User(string userId) => new(AppKey, userId);

    /// <summary>Starts a server on <paramref name="databasePath"/>; <paramref name="settings"/> overrides configuration.</summary>
    public static async Task<GatewayServer> StartAsync(string databasePath, FakeTimeProvider clock,
        IDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Development",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var config = new Dictionary<string, string?>
        {
            ["BanActors:Apps:0:AppKey"] = AppKey,
            ["BanActors:Apps:0:AppSecret"] = AppSecret,
            ["BanActors:Storage:Provider"] = "Sqlite",
            ["BanActors:Storage:ConnectionString"] = $"Data Source={databasePath}",
            ["BanActors:RateLimit:PermitsPerSecond"] = "100000",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) config[key] = value;
        builder.Configuration.AddInMemoryCollection(config);
        builder.Services.AddSingleton<TimeProvider>(clock);

        // As in Program.cs.
        builder.AddBanActorsServer();
        builder.AddImGateway();
        var app = builder.Build();
        app.MapBanActorsApi();
        app.MapImGateway();

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!
            .Addresses.Single();
        return new GatewayServer(app, new Uri(address));
    }

    /// <summary>A signed RongCloud request; returns the HTTP status and the JSON body.</summary>
    public async Task<(int Status, JsonElement Body)> PostAsync(string path, params (string Name, string Value)[] form)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new FormUrlEncodedContent(form.Select(f => KeyValuePair.Create(f.Name, f.Value))),
        };
        var nonce = Guid.NewGuid().ToString("N");
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        request.Headers.Add("App-Key", AppKey);
        request.Headers.Add("Nonce", nonce);
        request.Headers.Add("Timestamp", timestamp);
        request.Headers.Add("Signature", SignatureVerifier.Compute(AppSecret, nonce, timestamp));
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return ((int)response.StatusCode, body);
    }

    /// <summary>Posts and asserts <c>{"code":200}</c>.</summary>
    public async Task<JsonElement> PostOkAsync(string path, params (string Name, string Value)[] form)
    {
        var (status, body) = await PostAsync(path, form);
        Assert.True(status == 200 && body.GetProperty("code").GetInt32() == 200, $"{path} answered {status} {body}");
        return body;
    }

    public async Task<string> TokenAsync(string userId) =>
        (await PostOkAsync("/user/getToken.json", ("userId", userId), ("name", userId), ("portraitUri", "")))
        .GetProperty("token").GetString()!;

    public Task BlockAsync(string userId, int minutes) =>
        PostOkAsync("/user/block.json", ("userId", userId), ("minute", minutes.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    public Task UnblockAsync(string userId) => PostOkAsync("/user/unblock.json", ("userId", userId));

    public async Task<string> CheckOnlineAsync(string userId) =>
        (await PostOkAsync("/user/checkOnline.json", ("userId", userId))).GetProperty("status").GetString()!;

    public Task PublishAsync(string from, string text, params string[] to) =>
        PostOkAsync(MessageEndpoints.PublishPath,
            [("fromUserId", from), .. to.Select(id => ("toUserId", id)), ("objectName", "RC:TxtMsg"),
             ("content", JsonSerializer.Serialize(new { content = text })), ("pushContent", text)]);

    /// <summary>Connects a WebSocket client to <c>/im/connect</c> with <paramref name="token"/>.</summary>
    public Task<ImClient> ConnectAsync(string token) => ImClient.ConnectAsync(BaseUri, token);

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}

/// <summary>A temporary folder for one test's SQLite file, removed at the end.</summary>
public sealed class TempDatabase : IDisposable
{
    public TempDatabase()
    {
        Folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "banactors-gateway-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; }

    public string Path => System.IO.Path.Combine(Folder, "banactors.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a pool being torn down; the OS temp cleaner gets it.
        }
    }
}
