using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using BanActors.Bans;
using BanActors.Messaging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace BanActors.Server.Tests.Gateway;

/// <summary>Gateway specs run one at a time: they start servers and one of them measures latency.</summary>
[CollectionDefinition(Name)]
public sealed class GatewayCollection
{
    public const string Name = "gateway";
}

/// <summary>
/// A fresh server per test, composed as in Program.cs: real Kestrel on 127.0.0.1, real WebSocket clients, signed
/// HTTP requests, the engine on a temporary SQLite file and a fake clock the test moves.
/// </summary>
public abstract class GatewaySpecs(ITestOutputHelper output) : IAsyncLifetime
{
    protected readonly ITestOutputHelper Output = output;
    private protected readonly TempDatabase Database = new();
    protected readonly FakeTimeProvider Clock = new(new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero));
    private protected GatewayServer Server = null!;

    public async Task InitializeAsync() => Server = await GatewayServer.StartAsync(Database.Folder, Clock);

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Database.Dispose();
    }

    /// <summary>Replaces the server with one on the same database (a restart), optionally with other settings.</summary>
    protected async Task RestartAsync(IDictionary<string, string?>? settings = null)
    {
        await Server.DisposeAsync();
        Server = await GatewayServer.StartAsync(Database.Folder, Clock, settings);
    }

    protected static async Task<string> TextOf(ImClient client) => TextOf(await client.NextAsync());

    protected static string TextOf(ClientEvent message)
    {
        Assert.True(message.Type == "message", $"expected a message frame, got {message}");
        var content = message.Frame!.Value.GetProperty("content").GetString()!;
        return System.Text.Json.JsonDocument.Parse(content).RootElement.GetProperty("content").GetString()!;
    }

    // Bounded polling with short steps, for conditions that settle asynchronously.
    protected static async Task WaitUntilAsync(Func<Task<bool>> condition, int timeoutMs = 10_000)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.ElapsedMilliseconds < timeoutMs, $"condition not met within {timeoutMs} ms");
            await Task.Delay(20);
        }
    }
}

/// <summary>Sessions: connect, kick on ban, refusal, vanished clients, kick latency.</summary>
[Collection(GatewayCollection.Name)]
public sealed class SessionSpecs(ITestOutputHelper output) : GatewaySpecs(output)
{
    [Fact]
    public async Task Two_connected_users_get_each_others_messages_at_once()
    {
        await using var u1 = await Server.ConnectAsync(await Server.TokenAsync("u1"));
        await using var u2 = await Server.ConnectAsync(await Server.TokenAsync("u2"));
        await u1.ExpectConnectedAsync("u1");
        await u2.ExpectConnectedAsync("u2");

        await Server.PublishAsync("u1", "hello u2", "u2");
        var frame = await u2.ExpectMessageAsync("hello u2");
        Assert.Equal("u1", frame.GetProperty("fromUserId").GetString());
        Assert.Equal("RC:TxtMsg", frame.GetProperty("objectName").GetString());
        Assert.Equal(Clock.GetUtcNow().ToUnixTimeMilliseconds(), frame.GetProperty("sentTime").GetInt64());
        Assert.False(string.IsNullOrEmpty(frame.GetProperty("msgUID").GetString()));

        await Server.PublishAsync("u2", "hello u1", "u1");
        await u1.ExpectMessageAsync("hello u1");
        Assert.Equal(0, Server.Pushes.Total);
        Assert.Equal("1", await Server.CheckOnlineAsync("u1"));
    }

    [Fact]
    public async Task A_ban_kicks_every_session_of_the_user_with_4009_and_leaves_other_users_connected()
    {
        var token = await Server.TokenAsync("u1");
        await using var phone = await Server.ConnectAsync(token);
        await using var laptop = await Server.ConnectAsync(token);
        await using var other = await Server.ConnectAsync(await Server.TokenAsync("u2"));
        await phone.ExpectConnectedAsync("u1");
        await laptop.ExpectConnectedAsync("u1");
        await other.ExpectConnectedAsync("u2");
        Assert.Equal("1", await Server.CheckOnlineAsync("u1"));

        // Every device gets live messages.
        await Server.PublishAsync("u2", "to every device", "u1");
        await phone.ExpectMessageAsync("to every device");
        await laptop.ExpectMessageAsync("to every device");

        await Server.BlockAsync("u1", 10);

        foreach (var session in new[] { phone, laptop })
        {
            var kicked = await session.ExpectFrameAsync("kicked");
            Assert.Equal(31009, kicked.GetProperty("code").GetInt32());
            Assert.Equal("USER_BLOCKED", kicked.GetProperty("reason").GetString());
            var close = await session.ExpectCloseAsync(4009);
            Assert.Equal("USER_BLOCKED", close.CloseDescription);
        }
        Assert.Equal("0", await Server.CheckOnlineAsync("u1"));

        // The other user's session is still open and still gets messages.
        Assert.Equal("1", await Server.CheckOnlineAsync("u2"));
        await Server.PublishAsync("u3", "still here?", "u2");
        await other.ExpectMessageAsync("still here?");
    }

    [Fact]
    public async Task A_banned_user_is_refused_with_31009_and_a_bad_token_with_31004()
    {
        var token = await Server.TokenAsync("u1");
        await Server.BlockAsync("u1", 10);

        await using var banned = await Server.ConnectAsync(token);
        var refused = await banned.ExpectFrameAsync("refused");
        Assert.Equal(31009, refused.GetProperty("code").GetInt32());
        Assert.Equal("USER_BLOCKED", refused.GetProperty("reason").GetString());
        await banned.ExpectCloseAsync(4009);
        Assert.Equal("0", await Server.CheckOnlineAsync("u1"));

        foreach (var bad in new[] { "not-a-token", token[..^4] + "AAAA", "" })
        {
            await using var client = await Server.ConnectAsync(bad);
            var frame = await client.ExpectFrameAsync("refused");
            Assert.Equal(31004, frame.GetProperty("code").GetInt32());
            Assert.Equal("TOKEN_INCORRECT", frame.GetProperty("reason").GetString());
            await client.ExpectCloseAsync(4004);
        }

        using var http = new HttpClient { BaseAddress = Server.BaseUri };
        using var plain = await http.GetAsync($"/im/connect?token={Uri.EscapeDataString(token)}");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, plain.StatusCode);
    }

    [Fact]
    public async Task A_client_that_vanishes_without_closing_is_detected_and_unregistered()
    {
        await RestartAsync(new Dictionary<string, string?>
        {
            ["BanActors:Gateway:KeepAliveInterval"] = "00:00:00.200",
            ["BanActors:Gateway:KeepAliveTimeout"] = "00:00:00.300",
        });
        var token = await Server.TokenAsync("u1");

        // A raw TCP client: completes the WebSocket handshake, reads the first frame, then never reads or answers again.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, Server.BaseUri.Port);
        var stream = tcp.GetStream();
        var handshake = $"GET /im/connect?token={Uri.EscapeDataString(token)} HTTP/1.1\r\nHost: 127.0.0.1:{Server.BaseUri.Port}\r\n" +
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
                        $"Sec-WebSocket-Key: {Convert.ToBase64String(RandomNumberGenerator.GetBytes(16))}\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(handshake));
        var received = new StringBuilder();
        var buffer = new byte[4096];
        using (var timeout = new CancellationTokenSource(ImClient.DefaultTimeout))
        {
            while (!received.ToString().Contains("\"connected\"", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, timeout.Token);
                Assert.True(read > 0, "the server closed the connection during the handshake");
                received.Append(Encoding.Latin1.GetString(buffer, 0, read));
            }
        }
        Assert.StartsWith("HTTP/1.1 101", received.ToString(), StringComparison.Ordinal);
        Assert.True(await Server.Sessions.IsOnlineAsync(GatewayServer.User("u1")));

        var watch = Stopwatch.StartNew();
        await WaitUntilAsync(async () => !await Server.Sessions.IsOnlineAsync(GatewayServer.User("u1")));
        Output.WriteLine($"silent client unregistered {watch.ElapsedMilliseconds} ms after its first frame");
        Assert.Equal("0", await Server.CheckOnlineAsync("u1"));

        // A message to them now is kept for their next connect.
        await Server.PublishAsync("u2", "while gone", "u1");
        Assert.Equal(1, await Server.Store.CountAsync(GatewayServer.User("u1")));
    }

    [Fact]
    public async Task Kick_latency_from_the_ban_answer_to_the_close_frame_is_measured()
    {
        const int rounds = 20;
        var token = await Server.TokenAsync("u1");
        var fromRequest = new List<double>();
        var fromAnswer = new List<double>();
        for (var i = 0; i < rounds; i++)
        {
            await using var client = await Server.ConnectAsync(token);
            await client.ExpectConnectedAsync("u1");
            var sent = Stopwatch.GetTimestamp();
            await Server.BlockAsync("u1", 10);
            var answered = Stopwatch.GetTimestamp();
            await client.ExpectFrameAsync("kicked");
            var close = await client.ExpectCloseAsync(4009);
            fromRequest.Add(Stopwatch.GetElapsedTime(sent, close.Timestamp).TotalMilliseconds);
            fromAnswer.Add((close.Timestamp - answered) * 1000.0 / Stopwatch.Frequency);
            await Server.UnblockAsync("u1");
        }
        Output.WriteLine($"kick latency over {rounds} bans (ms), ban answered -> close frame at the client: " + Summary(fromAnswer));
        Output.WriteLine($"kick latency over {rounds} bans (ms), ban request sent -> close frame at the client: " + Summary(fromRequest));
        Output.WriteLine("(negative: the close frame reached the client before the HTTP answer did)");
    }

    private static string Summary(List<double> values)
    {
        var sorted = values.Order().ToList();
        return FormattableString.Invariant(
            $"min {sorted[0]:0.00}, median {sorted[sorted.Count / 2]:0.00}, p95 {sorted[(int)(sorted.Count * 0.95)]:0.00}, max {sorted[^1]:0.00}");
    }

    // Bounded polling with short steps, for conditions that settle asynchronously.
}

/// <summary>Messages kept while a user is offline or banned: no push while banned, delivery after the ban, once, in order; retention; restarts; races.</summary>
[Collection(GatewayCollection.Name)]
public sealed class KeptMessageSpecs(ITestOutputHelper output) : GatewaySpecs(output)
{
    [Fact]
    public async Task Messages_to_a_banned_user_are_accepted_and_kept_without_push_while_an_offline_user_gets_a_push()
    {
        await using var sender = await Server.ConnectAsync(await Server.TokenAsync("u2"));
        await sender.ExpectConnectedAsync("u2");
        await Server.BlockAsync("u1", 10);

        await Server.PublishAsync("u2", "one", "u1", "u3");
        await Server.PublishAsync("u2", "two", "u1");

        Assert.Equal(0, Server.Pushes.CountFor(GatewayServer.User("u1")));
        Assert.Equal(1, Server.Pushes.CountFor(GatewayServer.User("u3")));
        Assert.Equal(2, await Server.Store.CountAsync(GatewayServer.User("u1")));
        Assert.Equal(1, await Server.Store.CountAsync(GatewayServer.User("u3")));

        // The banned user still cannot connect, so nothing reaches them.
        await using var banned = await Server.ConnectAsync(await Server.TokenAsync("u1"));
        await banned.ExpectFrameAsync("refused");
        await banned.ExpectCloseAsync(4009);
        Assert.Equal(2, await Server.Store.CountAsync(GatewayServer.User("u1")));
    }

    [Fact]
    public async Task After_a_manual_unban_the_kept_messages_arrive_in_send_order_and_only_once()
    {
        var token = await Server.TokenAsync("u1");
        await Server.BlockAsync("u1", 60);
        for (var i = 1; i <= 5; i++)
        {
            await Server.PublishAsync("u2", $"kept {i}", "u1");
            Clock.Advance(TimeSpan.FromSeconds(1));
        }
        await Server.UnblockAsync("u1");

        await using (var first = await Server.ConnectAsync(token))
        {
            await first.ExpectConnectedAsync("u1");
            var sentTimes = new List<long>();
            for (var i = 1; i <= 5; i++)
                sentTimes.Add((await first.ExpectMessageAsync($"kept {i}")).GetProperty("sentTime").GetInt64());
            Assert.Equal(sentTimes.Order(), sentTimes);
            // A live message now comes straight after: nothing else was queued in between.
            await Server.PublishAsync("u2", "live", "u1");
            await first.ExpectMessageAsync("live");
        }
        Assert.Equal(0, await Server.Store.CountAsync(GatewayServer.User("u1")));

        await using var second = await Server.ConnectAsync(token);
        await second.ExpectConnectedAsync("u1");
        await Server.PublishAsync("u2", "after reconnect", "u1");
        await second.ExpectMessageAsync("after reconnect");
    }

    [Fact]
    public async Task When_the_ban_ends_on_the_clock_the_user_connects_and_gets_the_kept_messages()
    {
        var token = await Server.TokenAsync("u1");
        await Server.BlockAsync("u1", 30);
        await Server.PublishAsync("u2", "during the ban 1", "u1");
        await Server.PublishAsync("u2", "during the ban 2", "u1");
        await using (var early = await Server.ConnectAsync(token))
        {
            await early.ExpectFrameAsync("refused");
            await early.ExpectCloseAsync(4009);
        }

        Clock.Advance(TimeSpan.FromMinutes(30));
        await WaitUntilAsync(async () => !(await Server.Engine.GetStatusAsync(GatewayServer.User("u1"))).IsBanned);
        var blocked = await Server.PostOkAsync("/user/block/query.json");
        Assert.Equal(0, blocked.GetProperty("users").GetArrayLength());

        await using var client = await Server.ConnectAsync(token);
        await client.ExpectConnectedAsync("u1");
        await client.ExpectMessageAsync("during the ban 1");
        await client.ExpectMessageAsync("during the ban 2");
        Assert.Equal(0, Server.Pushes.CountFor(GatewayServer.User("u1")));
    }

    [Fact]
    public async Task A_kept_message_older_than_the_retention_is_never_delivered_and_is_purged()
    {
        // Purge every 10 days, so that at 8 days the message is still stored and only the delivery filter holds it back.
        await RestartAsync(new Dictionary<string, string?> { ["BanActors:Messaging:PurgeInterval"] = "10.00:00:00" });
        var token = await Server.TokenAsync("u3");
        var u3 = GatewayServer.User("u3");
        await Server.PublishAsync("u2", "too old", "u3");
        Clock.Advance(TimeSpan.FromDays(1));
        await Server.PublishAsync("u2", "recent", "u3");
        Assert.Equal(2, await Server.Store.CountAsync(u3));

        Clock.Advance(TimeSpan.FromDays(7));
        await using (var client = await Server.ConnectAsync(token))
        {
            await client.ExpectConnectedAsync("u3");
            await client.ExpectMessageAsync("recent");
            await Server.PublishAsync("u2", "live", "u3");
            await client.ExpectMessageAsync("live");
        }
        Assert.Equal(1, await Server.Store.CountAsync(u3));

        Clock.Advance(TimeSpan.FromDays(2));
        await WaitUntilAsync(async () => await Server.Store.CountAsync(u3) == 0);
    }

    [Fact]
    public Task Kept_messages_survive_a_restart_of_the_server() => RestartScenario(settings: null, suffix: "");

    [SkippableFact]
    public async Task Kept_messages_survive_a_restart_of_the_server_on_PostgreSQL() =>
        await RestartScenario(new Dictionary<string, string?>
        {
            ["BanActors:Storage:Provider"] = "PostgreSql",
            ["BanActors:Storage:ConnectionString"] = await SharedPostgres.CreateDatabaseAsync("gateway_restart"),
        }, suffix: "");

    private async Task RestartScenario(Dictionary<string, string?>? settings, string suffix)
    {
        if (settings is not null) await RestartAsync(settings);
        string u1 = "u1" + suffix, u2 = "u2" + suffix;
        var token = await Server.TokenAsync(u1);
        await Server.BlockAsync(u1, 60);
        await Server.PublishAsync(u2, "before restart 1", u1);
        await Server.PublishAsync(u2, "before restart 2", u1);
        var bystander = await Server.ConnectAsync(await Server.TokenAsync(u2));
        await bystander.ExpectConnectedAsync(u2);

        await Server.DisposeAsync();
        // Sessions are closed as "going away" when the server stops, not left to time out.
        await bystander.ExpectCloseAsync(1001);
        await bystander.DisposeAsync();
        Server = await GatewayServer.StartAsync(Database.Folder, Clock, settings);

        await using (var stillBanned = await Server.ConnectAsync(token))
        {
            await stillBanned.ExpectFrameAsync("refused");
            await stillBanned.ExpectCloseAsync(4009);
        }
        await Server.UnblockAsync(u1);
        await using var client = await Server.ConnectAsync(token);
        await client.ExpectConnectedAsync(u1);
        await client.ExpectMessageAsync("before restart 1");
        await client.ExpectMessageAsync("before restart 2");
    }

    [Fact]
    public async Task Messages_published_while_the_user_connects_are_each_delivered_exactly_once()
    {
        var token = await Server.TokenAsync("u1");
        var published = new List<string>();
        var received = new List<string>();
        for (var round = 0; round < 10; round++)
        {
            var texts = Enumerable.Range(0, 5).Select(i => $"round {round} message {i}").ToList();
            published.AddRange(texts);
            // Publishing races the connect: some copies are kept, some queued live, some caught by the admission.
            var publishing = Task.Run(async () =>
            {
                foreach (var text in texts) await Server.PublishAsync("u2", text, "u1");
            });
            await using var client = await Server.ConnectAsync(token);
            await client.ExpectConnectedAsync("u1");
            await publishing;
            // Whatever was kept is announced to the session before this one is offered, so it comes after them all.
            var sentinel = $"sentinel {round}";
            await Server.PublishAsync("u2", sentinel, "u1");
            while (await TextOf(client) is var text && text != sentinel) received.Add(text);
        }
        Assert.Equal(published.Order(), received.Order());
        Assert.Equal(0, await Server.Store.CountAsync(GatewayServer.User("u1")));
    }

    [Fact]
    public async Task A_ban_that_interrupts_delivery_loses_nothing_and_repeats_nothing()
    {
        var token = await Server.TokenAsync("u1");
        var texts = Enumerable.Range(0, 200).Select(i => $"burst {i}").ToList();
        var received = new List<string>();
        await using (var client = await Server.ConnectAsync(token))
        {
            await client.ExpectConnectedAsync("u1");
            // The ban lands in the middle of a stream of messages: each copy is written, queued when the kick
            // comes (then kept by the closing session), or kept by the publisher.
            var publishing = Task.Run(async () =>
            {
                foreach (var text in texts) await Server.PublishAsync("u2", text, "u1");
            });
            await client.ExpectMessageAsync("burst 0");
            received.Add("burst 0");
            await Server.BlockAsync("u1", 10);
            await publishing;
            while (await client.NextAsync() is { Type: "message" } message) received.Add(TextOf(message));
            await client.ExpectCloseAsync(4009);
        }
        Output.WriteLine($"{received.Count} of {texts.Count} messages were written before the kick");

        await Server.UnblockAsync("u1");
        await using (var client = await Server.ConnectAsync(token))
        {
            await client.ExpectConnectedAsync("u1");
            await Server.PublishAsync("u2", "sentinel", "u1");
            while (await TextOf(client) is var text && text != "sentinel") received.Add(text);
        }
        Assert.Equal(texts.Order(), received.Order());
    }
}

/// <summary><c>/message/private/publish.json</c> validation.</summary>
[Collection(GatewayCollection.Name)]
public sealed class PublishSpecs(ITestOutputHelper output) : GatewaySpecs(output)
{
    [Fact]
    public async Task Publish_validates_its_form_like_the_other_endpoints()
    {
        const string path = "/message/private/publish.json";
        (string, string)[] valid = [("fromUserId", "u2"), ("toUserId", "u1"), ("objectName", "RC:TxtMsg"), ("content", "{\"content\":\"hi\"}")];

        async Task ExpectError(int code, params (string, string)[] form)
        {
            var (status, body) = await Server.PostAsync(path, form);
            Assert.Equal(400, status);
            Assert.Equal(code, body.GetProperty("code").GetInt32());
            Assert.Equal(path, body.GetProperty("url").GetString());
        }

        await ExpectError(1002, valid.Where(f => f.Item1 != "toUserId").ToArray());
        await ExpectError(1002, valid.Where(f => f.Item1 != "fromUserId").ToArray());
        await ExpectError(1002, valid.Where(f => f.Item1 != "objectName").ToArray());
        await ExpectError(1002, valid.Where(f => f.Item1 != "content").ToArray());
        await ExpectError(1002, [.. valid.Where(f => f.Item1 != "content"), ("content", "not json")]);
        await ExpectError(1005, [.. valid, ("toUserId", new string('x', 65))]);
        await ExpectError(1005, [.. valid, .. Enumerable.Range(0, 1000).Select(i => ("toUserId", $"r{i}"))]);
        Assert.Equal(0, await Server.Store.CountAsync(GatewayServer.User("u1")));

        await Server.PostOkAsync(path, [.. valid.Where(f => f.Item1 != "toUserId"), .. Enumerable.Range(0, 1000).Select(i => ("toUserId", $"r{i}"))]);
        Assert.Equal(1, await Server.Store.CountAsync(GatewayServer.User("r999")));
    }
}
