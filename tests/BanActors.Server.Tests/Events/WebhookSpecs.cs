using System.Net;
using System.Text;
using BanActors.Server.Tests.Support;

namespace BanActors.Server.Tests.Events;

/// <summary>
/// Webhooks on a real Kestrel, to a real Kestrel receiver in the test process: every ban, unban and expiry is POSTed
/// once accepted, in order per user, signed twice; a receiver that fails or is gone gets everything later, also
/// across a server restart; past the retry window an event is a dead letter an operator lists and replays.
/// </summary>
public sealed class WebhookSpecs
{
    private static readonly TestApp Hooked = new("hooked", "secret-hooked");
    private static readonly TestApp Plain = new("plain", "secret-plain");
    private const string WebhookSecret = "whsec-hooked";

    private static Dictionary<string, string?> Settings(WebhookReceiver receiver, string? retryFor = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["BanActors:Apps:0:Webhook:Url"] = receiver.Url.ToString(),
            ["BanActors:Apps:0:Webhook:Secret"] = WebhookSecret,
        };
        if (retryFor is not null) settings["BanActors:Engine:EventRetryFor"] = retryFor;
        return settings;
    }

    [Fact]
    public async Task Every_event_type_arrives_in_order_per_user_with_both_signatures_valid_and_a_tampered_body_fails_the_check()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await ServerHost.StartAsync([Hooked, Plain], Settings(receiver));
        var client = server.Client(Hooked);
        var start = server.Clock.GetUtcNow();

        await client.PostAsync("/user/block.json", ("userId", "u1"), ("userId", "u2"), ("minute", "10"), ("reason", "spam"),
            ("operator", "alice"));
        await client.PostAsync("/user/unblock.json", ("userId", "u1"), ("operator", "bob"));
        await client.PostAsync("/user/block.json", ("userId", "u1"), ("minute", "1"));
        await server.Client(Plain).PostAsync("/user/block.json", ("userId", "u1"), ("minute", "10"));
        await EventuallyAsync(() => receiver.Accepted.Count == 4, "four events");
        await AdvanceUntilAsync(server, () => receiver.Accepted.Count == 5, "u1's expiry");

        var calls = receiver.Accepted;
        Assert.Equal(["user.blocked", "user.unblocked", "user.blocked", "user.block_expired"],
            calls.Where(c => c.UserId == "u1").Select(c => c.Type));
        Assert.Equal(["user.blocked"], calls.Where(c => c.UserId == "u2").Select(c => c.Type));
        Assert.All(calls, c =>
        {
            Assert.StartsWith("application/json", c.ContentType);
            Assert.Equal("hooked", c.Query["appKey"]);
            Assert.Equal("banactors", c.Query["source"]);
            Assert.True(c.QuerySignatureValid(WebhookSecret), "the RongCloud-style query signature");
            Assert.False(c.QuerySignatureValid(Hooked.AppSecret), "signed with the webhook's own secret");
            Assert.True(WebhookCall.BodySignatureValid(c.SignatureHeader, c.Body, WebhookSecret), "the body's HMAC");
            Assert.Equal("hooked", c.Json.GetProperty("appKey").GetString());
        });
        Assert.Equal(calls.Count, calls.Select(c => c.Id).Distinct().Count());

        var first = calls[0].Json;
        Assert.Equal(start.ToUnixTimeMilliseconds(), first.GetProperty("time").GetInt64());
        Assert.Equal(start.AddMinutes(10).ToUnixTimeMilliseconds(), first.GetProperty("blockEndTime").GetInt64());
        Assert.Equal(10, first.GetProperty("minute").GetInt32());
        Assert.Equal(("spam", "alice"), (first.GetProperty("reason").GetString(), first.GetProperty("operator").GetString()));
        var unblock = calls.First(c => c.Type == "user.unblocked").Json;
        Assert.False(unblock.TryGetProperty("blockEndTime", out _));
        Assert.Equal("bob", unblock.GetProperty("operator").GetString());
        var expiry = calls[^1].Json;
        Assert.Equal(start.AddMinutes(1).ToUnixTimeMilliseconds(), expiry.GetProperty("blockEndTime").GetInt64());
        Assert.True(expiry.GetProperty("time").GetInt64() >= expiry.GetProperty("blockEndTime").GetInt64());

        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(calls[0].Body).Replace("\"minute\":10", "\"minute\":1"));
        Assert.False(WebhookCall.BodySignatureValid(calls[0].SignatureHeader, tampered, WebhookSecret));
        Assert.False(WebhookCall.BodySignatureValid(calls[0].SignatureHeader, calls[0].Body, "another secret"));
    }

    [Fact]
    public async Task A_receiver_that_fails_for_a_while_gets_every_event_later_in_order()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await ServerHost.StartAsync([Hooked], Settings(receiver));
        var client = server.Client(Hooked);
        receiver.Failing = true;
        for (var i = 1; i <= 3; i++)
            await client.PostAsync("/user/block.json", ("userId", "u1"), ("minute", i.ToString()), ("reason", $"r{i}"));
        await EventuallyAsync(() => receiver.Refused >= 1, "a refused delivery");
        await AdvanceUntilAsync(server, () => receiver.Refused >= 3, "retries", step: TimeSpan.FromSeconds(2));
        Assert.Empty(receiver.Accepted);

        receiver.Failing = false;
        await AdvanceUntilAsync(server, () => receiver.Accepted.Count == 3, "the three bans", step: TimeSpan.FromSeconds(5));
        Assert.Equal(["r1", "r2", "r3"], receiver.Accepted.Select(c => c.Json.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task Events_not_delivered_when_the_server_stops_are_sent_after_the_restart_with_the_expiry_of_a_ban_that_ended_meanwhile()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var folder = Path.Combine(Path.GetTempPath(), "banactors-server-tests", Guid.NewGuid().ToString("N"));
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(ServerHost.Start);
        try
        {
            await using (var server = await ServerHost.StartAsync([Hooked], Settings(receiver), databaseFolder: folder, clock: clock))
            {
                await server.Client(Hooked).PostAsync("/user/block.json", ("userId", "early"), ("minute", "60"));
                await EventuallyAsync(() => receiver.Accepted.Count == 1, "the first ban");
                receiver.Failing = true;
                var ok = await server.Client(Hooked).PostAsync("/user/block.json", ("userId", "u1"), ("minute", "1"));
                Assert.Equal("{\"code\":200}", ok.Body);
                await EventuallyAsync(() => receiver.Refused >= 1, "the failed delivery");
            }

            receiver.Failing = false;
            clock.Advance(TimeSpan.FromMinutes(3));
            await using var restarted = await ServerHost.StartAsync([Hooked], Settings(receiver), databaseFolder: folder, clock: clock);
            await EventuallyAsync(() => receiver.Accepted.Count(c => c.UserId == "u1") == 2, "u1's ban and expiry after the restart");
            Assert.Equal(["user.blocked", "user.block_expired"], receiver.Accepted.Where(c => c.UserId == "u1").Select(c => c.Type));
            var expiry = receiver.Accepted[^1].Json;
            Assert.Equal(clock.GetUtcNow().ToUnixTimeMilliseconds(), expiry.GetProperty("time").GetInt64());
            // Delivered before the stop: not sent again.
            Assert.Single(receiver.Accepted, c => c.UserId == "early");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task An_event_failing_past_the_retry_window_is_listed_as_a_dead_letter_of_its_app_only_and_a_replay_delivers_it()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await ServerHost.StartAsync([Hooked, Plain], Settings(receiver, retryFor: "00:01:00"));
        var client = server.Client(Hooked);
        receiver.Failing = true;
        await client.PostAsync("/user/block.json", ("userId", "u1"), ("minute", "10"), ("reason", "lost"));
        await EventuallyAsync(() => receiver.Refused >= 1, "the failed delivery");
        JsonList letters = default;
        await AdvanceUntilAsync(server, async () =>
        {
            letters = new JsonList(await client.PostAsync("/events/deadletters.json"));
            return letters.Count == 1;
        }, "a dead letter", step: TimeSpan.FromSeconds(10));

        var letter = letters.Items[0];
        Assert.Equal("lost", letter.GetProperty("event").GetProperty("reason").GetString());
        Assert.Equal("answered HTTP 500", letter.GetProperty("error").GetString());
        Assert.True(letter.GetProperty("attempts").GetInt32() >= 3);
        Assert.Equal(0, new JsonList(await server.Client(Plain).PostAsync("/events/deadletters.json")).Count);

        var bad = await client.PostAsync("/events/deadletters/replay.json", ("id", "abc"));
        Assert.Equal((HttpStatusCode.BadRequest, 1002), (bad.Status, bad.Code));
        Assert.Equal(0, (await server.Client(Plain).PostAsync("/events/deadletters/replay.json")).Json.GetProperty("replayed").GetInt32());

        receiver.Failing = false;
        var id = letter.GetProperty("event").GetProperty("id").GetString()!;
        var replay = await client.PostAsync("/events/deadletters/replay.json", ("id", id));
        Assert.Equal(1, replay.Json.GetProperty("replayed").GetInt32());
        await EventuallyAsync(() => receiver.Accepted.Any(c => c.Id == id), "the replayed event");
        await EventuallyAsync(async () => new JsonList(await client.PostAsync("/events/deadletters.json")).Count == 0, "no dead letter left");
    }

    private readonly record struct JsonList(ApiResponse Response)
    {
        public IReadOnlyList<System.Text.Json.JsonElement> Items => Response.Json.GetProperty("deadLetters").EnumerateArray().ToList();

        public int Count => Items.Count;
    }

    internal static Task EventuallyAsync(Func<bool> done, string what, int seconds = 30) =>
        EventuallyAsync(() => Task.FromResult(done()), what, seconds);

    internal static async Task EventuallyAsync(Func<Task<bool>> done, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {seconds} s: {what}");
            await Task.Delay(25);
        }
    }

    /// <summary>Moves the server's clock (retries and expiries run on it) until <paramref name="done"/>, bounded.</summary>
    private static Task AdvanceUntilAsync(ServerHost server, Func<bool> done, string what, TimeSpan? step = null) =>
        AdvanceUntilAsync(server, () => Task.FromResult(done()), what, step);

    private static async Task AdvanceUntilAsync(ServerHost server, Func<Task<bool>> done, string what, TimeSpan? step = null)
    {
        for (var i = 0; i < 400 && !await done(); i++)
        {
            server.Clock.Advance(step ?? TimeSpan.FromSeconds(30));
            await Task.Delay(25);
        }
        if (!await done()) throw new TimeoutException($"not after 400 steps: {what}");
    }
}
