using System.Diagnostics;
using BanActors.Bans;
using BanActors.Messaging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace BanActors.Server.Tests.Gateway;

/// <summary>
/// The seed scenario end to end: real Kestrel on 127.0.0.1, real WebSocket clients, signed HTTP requests, the
/// engine on a temporary SQLite file and a fake clock.
/// </summary>
public sealed class ImGatewaySpecs(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TempDatabase _database = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero));
    private GatewayServer _server = null!;

    public async Task InitializeAsync() => _server = await GatewayServer.StartAsync(_database.Path, _clock);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _database.Dispose();
    }

    [Fact]
    public async Task Two_connected_users_get_each_others_messages_at_once()
    {
        await using var u1 = await _server.ConnectAsync(await _server.TokenAsync("u1"));
        await using var u2 = await _server.ConnectAsync(await _server.TokenAsync("u2"));
        await u1.ExpectConnectedAsync("u1");
        await u2.ExpectConnectedAsync("u2");

        await _server.PublishAsync("u1", "hello u2", "u2");
        var frame = await u2.ExpectMessageAsync("hello u2");
        Assert.Equal("u1", frame.GetProperty("fromUserId").GetString());
        Assert.Equal("RC:TxtMsg", frame.GetProperty("objectName").GetString());
        Assert.Equal(_clock.GetUtcNow().ToUnixTimeMilliseconds(), frame.GetProperty("sentTime").GetInt64());
        Assert.False(string.IsNullOrEmpty(frame.GetProperty("msgUID").GetString()));

        await _server.PublishAsync("u2", "hello u1", "u1");
        await u1.ExpectMessageAsync("hello u1");
        Assert.Equal(0, _server.Pushes.Total);
        Assert.Equal("1", await _server.CheckOnlineAsync("u1"));
    }
}
