using System.Collections.Concurrent;
using System.Net;
using BanActors.Server.Tests.Support;

namespace BanActors.Server.Tests;

/// <summary>The per App-Key and per endpoint rate limit (100 requests per second by default).</summary>
public sealed class RateLimitSpecs(DefaultServer fixture) : IClassFixture<DefaultServer>
{
    private readonly ServerHost _server = fixture.Server;

    [Fact]
    public async Task A_burst_over_100_per_second_gets_1008_while_other_endpoints_and_apps_still_answer()
    {
        var client = _server.Client(TestApps.A);
        var answers = new ConcurrentBag<ApiResponse>();
        var sent = 0;
        var limited = false;

        // Eight senders until the limit shows, at most 1,000 requests in all.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!Volatile.Read(ref limited) && Interlocked.Increment(ref sent) <= 1000)
            {
                var response = await client.PostAsync("/user/checkOnline.json", ("userId", "burst"));
                answers.Add(response);
                if (response.Status == HttpStatusCode.TooManyRequests) Volatile.Write(ref limited, true);
            }
        })));
        var otherEndpoint = await client.PostAsync("/user/block/query.json");
        var otherApp = await _server.Client(TestApps.B).PostAsync("/user/checkOnline.json", ("userId", "burst"));

        var refused = answers.Where(a => a.Status == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused);
        Assert.All(refused, r =>
        {
            Assert.Equal(1008, r.Code);
            Assert.Equal("/user/checkOnline.json", r.Json.GetProperty("url").GetString());
            Assert.Equal("application/json; charset=utf-8", r.ContentType);
        });
        Assert.All(answers.Where(a => a.Status != HttpStatusCode.TooManyRequests), a => Assert.Equal(HttpStatusCode.OK, a.Status));
        // The limit is not lower than configured: the first window let at least 100 through.
        Assert.True(answers.Count(a => a.Status == HttpStatusCode.OK) >= 100, $"{answers.Count} answers");
        Assert.Equal(HttpStatusCode.OK, otherEndpoint.Status);
        Assert.Equal(HttpStatusCode.OK, otherApp.Status);
    }

    [Fact]
    public async Task Requests_refused_for_a_bad_signature_do_not_spend_the_apps_budget()
    {
        var client = _server.Client(TestApps.Signing);
        for (var i = 0; i < 150; i++)
        {
            var forged = await client.PostAsync("/user/getToken.json", new Signing { Signature = new string('0', 40) }, ("userId", "x"));
            Assert.Equal(HttpStatusCode.Unauthorized, forged.Status);
        }

        var genuine = await client.PostAsync("/user/getToken.json", ("userId", "x"));

        Assert.Equal(HttpStatusCode.OK, genuine.Status);
    }
}

/// <summary>A server allowing 3 requests per second per app and endpoint.</summary>
public sealed class LowLimitServer : ServerFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings =>
        new Dictionary<string, string?> { ["BanActors:RateLimit:PermitsPerSecond"] = "3" };
}

/// <summary>The configured limit applies, and a refused ban changes nothing.</summary>
public sealed class ConfiguredRateLimitSpecs(LowLimitServer fixture) : IClassFixture<LowLimitServer>
{
    private readonly ServerHost _server = fixture.Server;

    [Fact]
    public async Task A_ban_refused_by_the_rate_limit_is_1008_and_bans_nobody()
    {
        var client = _server.Client(TestApps.A);
        ApiResponse? refused = null;
        var refusedUser = "";
        for (var i = 0; i < 50 && refused is null; i++)
        {
            var response = await client.PostAsync("/user/block.json", ("userId", $"limited-{i}"), ("minute", "10"));
            if (response.Status == HttpStatusCode.TooManyRequests)
            {
                refused = response;
                refusedUser = $"limited-{i}";
            }
        }

        Assert.NotNull(refused);
        Assert.Equal(1008, refused.Code);
        Assert.Equal("/user/block.json", refused.Json.GetProperty("url").GetString());
        Assert.False((await _server.Engine.GetStatusAsync(new UserKey(TestApps.A.AppKey, refusedUser))).IsBanned);
        Assert.DoesNotContain($"\"{refusedUser}\"", (await client.PostAsync("/user/block/query.json")).Body);
    }
}
