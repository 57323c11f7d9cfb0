using System.Globalization;
using System.Text.Json;
using BanActors.Bans;
using BanActors.Hosting;
using BanActors.Messaging;
using BanActors.Server.Gateway;
using BanActors.Server.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace BanActors.Server.Tests.Gateway;

/// <summary>
/// The gateway specs' view of a <see cref="ServerHost"/>: one app, the rate limit out of the way, and the
/// RongCloud calls and WebSocket connects that the scenarios are made of.
/// </summary>
internal sealed class GatewayServer : IAsyncDisposable
{
    public const string AppKey = "gatewaytest";
    public const string AppSecret = "gateway-test-secret";

    private readonly ServerHost _host;
    private readonly RongCloudClient _client;

    private GatewayServer(ServerHost host)
    {
        _host = host;
        _client = host.Client(new TestApp(AppKey, AppSecret));
    }

    public Uri BaseUri => _host.Address;

    public IServiceProvider Services => _host.App.Services;

    public IBanEngine Engine => _host.Engine;

    public ISessionRegistry Sessions => _host.Sessions;

    public RecordingPushNotifier Pushes => Services.GetRequiredService<RecordingPushNotifier>();

    public IOfflineMessageStore Store => Services.GetRequiredService<IOfflineMessageStore>();

    public static UserKey User(string userId) => new(AppKey, userId);

    /// <summary>Starts a server on the database in <paramref name="databaseFolder"/>; <paramref name="settings"/> overrides configuration.</summary>
    public static async Task<GatewayServer> StartAsync(string databaseFolder, FakeTimeProvider clock,
        IDictionary<string, string?>? settings = null)
    {
        var config = new Dictionary<string, string?> { ["BanActors:RateLimit:PermitsPerSecond"] = "100000" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) config[key] = value;
        return new GatewayServer(await ServerHost.StartAsync([new TestApp(AppKey, AppSecret)], config,
            databaseFolder: databaseFolder, clock: clock));
    }

    /// <summary>A signed RongCloud request; returns the HTTP status and the JSON body.</summary>
    public async Task<(int Status, JsonElement Body)> PostAsync(string path, params (string Name, string Value)[] form)
    {
        var response = await _client.PostAsync(path, form);
        return ((int)response.Status, response.Json);
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
        PostOkAsync("/user/block.json", ("userId", userId), ("minute", minutes.ToString(CultureInfo.InvariantCulture)));

    public Task UnblockAsync(string userId) => PostOkAsync("/user/unblock.json", ("userId", userId));

    public async Task<string> CheckOnlineAsync(string userId) =>
        (await PostOkAsync("/user/checkOnline.json", ("userId", userId))).GetProperty("status").GetString()!;

    public Task PublishAsync(string from, string text, params string[] to) =>
        PostOkAsync(MessageEndpoints.PublishPath,
            [("fromUserId", from), .. to.Select(id => ("toUserId", id)), ("objectName", "RC:TxtMsg"),
             ("content", JsonSerializer.Serialize(new { content = text })), ("pushContent", text)]);

    /// <summary>Connects a WebSocket client to <c>/im/connect</c> with <paramref name="token"/>.</summary>
    public Task<ImClient> ConnectAsync(string token) => ImClient.ConnectAsync(BaseUri, token);

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
