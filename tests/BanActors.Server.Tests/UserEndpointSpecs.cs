using System.Buffers.Text;
using System.Net;
using System.Text;
using BanActors.Bans;
using BanActors.Server.Apps;
using BanActors.Server.Tests.Support;
using BanActors.Sessions;
using Microsoft.Extensions.DependencyInjection;

namespace BanActors.Server.Tests;

/// <summary>Each endpoint's success, on the wire as RongCloud's SDKs see it.</summary>
public sealed class UserEndpointSpecs(DefaultServer fixture) : IClassFixture<DefaultServer>
{
    private readonly ServerHost _server = fixture.Server;
    private RongCloudClient A => _server.Client(TestApps.A);

    [Fact]
    public async Task The_seed_request_bans_both_users_and_answers_exactly_code_200()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/user/block.json")
        {
            Content = new ByteArrayContent("userId=BWSZNmXBD&userId=jlk456j5&minute=10"u8.ToArray()),
        };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/x-www-form-urlencoded");
        _server.Client(TestApps.Seed).Sign(request, Signing.Default);

        using var response = await _server.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("{\"code\":200}"u8.ToArray(), await response.Content.ReadAsByteArrayAsync());
        foreach (var user in new[] { "BWSZNmXBD", "jlk456j5" })
        {
            var status = await _server.Engine.GetStatusAsync(new UserKey(TestApps.Seed.AppKey, user));
            Assert.True(status.IsBanned);
            Assert.Equal(_server.Clock.GetUtcNow().AddMinutes(10), status.Until);
        }
    }

    [Fact]
    public async Task Block_then_query_lists_the_user_with_its_end_time_in_utc()
    {
        var response = await A.PostAsync("/user/block.json", ("userId", "listed-1"), ("minute", "90"));
        Assert.Equal("{\"code\":200}", response.Body);

        var list = await A.PostAsync("/user/block/query.json");

        Assert.Equal(HttpStatusCode.OK, list.Status);
        Assert.Equal("application/json; charset=utf-8", list.ContentType);
        var expected = _server.Clock.GetUtcNow().AddMinutes(90).ToString("yyyy-MM-dd HH:mm:ss");
        Assert.Contains($"{{\"userId\":\"listed-1\",\"blockEndTime\":\"{expected}\",\"blockStartTime\":", list.Body);
        Assert.StartsWith("{\"code\":200,\"users\":[", list.Body);
    }

    [Fact]
    public async Task Unblock_lifts_the_ban_and_the_user_leaves_the_list()
    {
        await A.PostAsync("/user/block.json", ("userId", "to-unblock"), ("minute", "5"));
        Assert.True((await _server.Engine.GetStatusAsync(new UserKey(TestApps.A.AppKey, "to-unblock"))).IsBanned);

        var response = await A.PostAsync("/user/unblock.json", ("userId", "to-unblock"));

        Assert.Equal("{\"code\":200}", response.Body);
        Assert.False((await _server.Engine.GetStatusAsync(new UserKey(TestApps.A.AppKey, "to-unblock"))).IsBanned);
        Assert.DoesNotContain("to-unblock", (await A.PostAsync("/user/block/query.json")).Body);
    }

    [Fact]
    public async Task Unblocking_users_who_are_not_banned_succeeds()
    {
        var response = await A.PostAsync("/user/unblock.json", ("userId", "never-banned"), ("userId", "nor-this-one"));

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("{\"code\":200}", response.Body);
    }

    [Fact]
    public async Task A_ban_of_twenty_users_bans_all_of_them_and_a_reban_replaces_the_end_time()
    {
        var users = Enumerable.Range(1, 20).Select(i => ("userId", $"batch-{i}")).ToList();
        var first = await A.PostAsync("/user/block.json", [.. users, ("minute", "43200")]);
        Assert.Equal("{\"code\":200}", first.Body);

        var again = await A.PostAsync("/user/block.json", ("userId", "batch-7"), ("minute", "1"));
        Assert.Equal("{\"code\":200}", again.Body);

        var now = _server.Clock.GetUtcNow();
        for (var i = 1; i <= 20; i++)
        {
            var status = await _server.Engine.GetStatusAsync(new UserKey(TestApps.A.AppKey, $"batch-{i}"));
            Assert.True(status.IsBanned);
            Assert.Equal(i == 7 ? now.AddMinutes(1) : now.AddMinutes(43200), status.Until);
        }
    }

    [Fact]
    public async Task A_user_id_of_64_characters_and_unusual_characters_work()
    {
        var longId = new string('x', 64);
        var odd = "张伟 & co/=+%";
        var response = await A.PostAsync("/user/block.json", ("userId", longId), ("userId", odd), ("minute", "3"));

        Assert.Equal("{\"code\":200}", response.Body);
        var list = (await A.PostAsync("/user/block/query.json")).Json.GetProperty("users").EnumerateArray()
            .Select(u => u.GetProperty("userId").GetString()).ToList();
        Assert.Contains(longId, list);
        Assert.Contains(odd, list);
    }

    [Fact]
    public async Task Check_online_says_1_while_the_user_has_a_live_session_and_0_otherwise()
    {
        var user = new UserKey(TestApps.A.AppKey, "online-user");
        Assert.Equal("{\"code\":200,\"status\":\"0\"}", (await A.PostAsync("/user/checkOnline.json", ("userId", "online-user"))).Body);

        var admission = await _server.Sessions.RegisterSessionAsync(user, new FakeSession("s1"));
        Assert.True(admission.IsAccepted);
        var online = await A.PostAsync("/user/checkOnline.json", ("userId", "online-user"));

        Assert.Equal(HttpStatusCode.OK, online.Status);
        Assert.Equal("{\"code\":200,\"status\":\"1\"}", online.Body);
        // Another app's user of the same id has no session.
        var other = await _server.Client(TestApps.B).PostAsync("/user/checkOnline.json", ("userId", "online-user"));
        Assert.Equal("{\"code\":200,\"status\":\"0\"}", other.Body);

        _server.Sessions.UnregisterSession(user, "s1");
        var offline = await PollAsync(() => A.PostAsync("/user/checkOnline.json", ("userId", "online-user")),
            r => r.Body.Contains("\"0\"", StringComparison.Ordinal));
        Assert.Equal("{\"code\":200,\"status\":\"0\"}", offline.Body);
    }

    [Fact]
    public async Task Get_token_issues_a_token_for_that_app_and_user_only()
    {
        var response = await A.PostAsync("/user/getToken.json", ("userId", "token-user"), ("name", "Token User"),
            ("portraitUri", "https://example.com/a.png"));

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.StartsWith("{\"code\":200,\"userId\":\"token-user\",\"token\":\"", response.Body);
        var token = response.Json.GetProperty("token").GetString();
        var tokens = _server.App.Services.GetRequiredService<TokenService>();
        Assert.True(tokens.TryValidate(token, out var app, out var userId));
        Assert.Equal(TestApps.A.AppKey, app.AppKey);
        Assert.Equal("token-user", userId);

        var second = (await A.PostAsync("/user/getToken.json", ("userId", "token-user"))).Json.GetProperty("token").GetString();
        Assert.NotEqual(token, second);
        // The same token claiming app B is refused: its signature is made with A's secret.
        var parts = token!.Split('.');
        var payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[0]));
        Assert.StartsWith("appA\n", payload);
        var forged = Base64Url.EncodeToString(Encoding.UTF8.GetBytes("appB" + payload[4..])) + "." + parts[1];
        Assert.False(tokens.TryValidate(forged, out _, out _));
    }

    [Fact]
    public async Task Two_apps_never_see_or_change_each_others_users()
    {
        var b = _server.Client(TestApps.B);
        await A.PostAsync("/user/block.json", ("userId", "shared-id"), ("minute", "10"));

        Assert.DoesNotContain("shared-id", (await b.PostAsync("/user/block/query.json")).Body);
        Assert.False((await _server.Engine.GetStatusAsync(new UserKey(TestApps.B.AppKey, "shared-id"))).IsBanned);

        // B unbanning "its" shared-id leaves A's ban in place.
        Assert.Equal("{\"code\":200}", (await b.PostAsync("/user/unblock.json", ("userId", "shared-id"))).Body);
        Assert.True((await _server.Engine.GetStatusAsync(new UserKey(TestApps.A.AppKey, "shared-id"))).IsBanned);
        Assert.Contains("shared-id", (await A.PostAsync("/user/block/query.json")).Body);

        await b.PostAsync("/user/block.json", ("userId", "b-only"), ("minute", "10"));
        Assert.DoesNotContain("b-only", (await A.PostAsync("/user/block/query.json")).Body);
    }

    [Fact]
    public async Task Healthz_reports_a_reachable_journal()
    {
        using var response = await _server.Http.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"reachable\":true", await response.Content.ReadAsStringAsync());
    }

    /// <summary>Calls until <paramref name="done"/> holds: at most 100 times and 30 s, 20 ms apart.</summary>
    internal static async Task<ApiResponse> PollAsync(Func<Task<ApiResponse>> call, Func<ApiResponse, bool> done)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        ApiResponse last = null!;
        for (var i = 0; i < 100 && clock.Elapsed < TimeSpan.FromSeconds(30); i++)
        {
            last = await call();
            if (done(last)) return last;
            await Task.Delay(20);
        }
        return last;
    }

    private sealed class FakeSession(string id) : IBanSession
    {
        public string SessionId => id;

        public void Kick(int code, string reason) { }
    }
}
