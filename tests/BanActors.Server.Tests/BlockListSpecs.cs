using System.Net;
using BanActors.Bans;
using BanActors.Server.Tests.Support;

namespace BanActors.Server.Tests;

/// <summary>A server whose block list speaks Beijing time (UTC+8, no daylight saving), with an app per test.</summary>
public sealed class ShanghaiServer : ServerFixture
{
    public static readonly TestApp Order = new("order", "secret-order");
    public static readonly TestApp Paging = new("paging", "secret-paging");
    public static readonly TestApp DefaultSize = new("defaultsize", "secret-defaultsize");
    public static readonly TestApp Expiry = new("expiry", "secret-expiry");

    protected override IReadOnlyList<TestApp> Apps => [Order, Paging, DefaultSize, Expiry];

    protected override IReadOnlyDictionary<string, string?> Settings =>
        new Dictionary<string, string?> { ["BanActors:TimeZone"] = "Asia/Shanghai" };
}

/// <summary>The block list: order, paging, time zone and expiry.</summary>
public sealed class BlockListSpecs(ShanghaiServer fixture) : IClassFixture<ShanghaiServer>
{
    private readonly ServerHost _server = fixture.Server;

    [Fact]
    public async Task The_list_is_sorted_by_end_time_descending_in_the_configured_time_zone()
    {
        var client = _server.Client(ShanghaiServer.Order);
        foreach (var (user, minutes) in new[] { ("short", 5), ("long", 30), ("middle", 10) })
            Assert.Equal("{\"code\":200}", (await client.PostAsync("/user/block.json", ("userId", user), ("minute", minutes.ToString()))).Body);

        var response = await client.PostAsync("/user/block/query.json");

        var now = _server.Clock.GetUtcNow().UtcDateTime;
        string Beijing(int minutes) => now.AddMinutes(minutes).AddHours(8).ToString("yyyy-MM-dd HH:mm:ss");
        Assert.Equal(
            "{\"code\":200,\"users\":[" +
            $"{{\"userId\":\"long\",\"blockEndTime\":\"{Beijing(30)}\",\"blockStartTime\":\"{Beijing(0)}\"}}," +
            $"{{\"userId\":\"middle\",\"blockEndTime\":\"{Beijing(10)}\",\"blockStartTime\":\"{Beijing(0)}\"}}," +
            $"{{\"userId\":\"short\",\"blockEndTime\":\"{Beijing(5)}\",\"blockStartTime\":\"{Beijing(0)}\"}}],\"total\":3}}",
            response.Body);
    }

    [Fact]
    public async Task Pages_follow_one_another_without_overlap_in_end_time_order()
    {
        var client = _server.Client(ShanghaiServer.Paging);
        for (var i = 1; i <= 7; i++)
            Assert.Equal("{\"code\":200}", (await client.PostAsync("/user/block.json", ("userId", $"p{i}"), ("minute", i.ToString()))).Body);

        async Task<List<string>> Page(params (string, string)[] form) =>
            (await client.PostAsync("/user/block/query.json", form)).Json.GetProperty("users").EnumerateArray()
            .Select(u => u.GetProperty("userId").GetString()!).ToList();

        var page1 = await Page(("page", "1"), ("size", "3"));
        var page2 = await Page(("page", "2"), ("size", "3"));
        var page3 = await Page(("page", "3"), ("size", "3"));
        var page4 = await Page(("page", "4"), ("size", "3"));
        var unpaged = await Page(("page", "0"), ("size", "3"));
        var noBody = await Page();

        Assert.Equal(["p7", "p6", "p5"], page1);
        Assert.Equal(["p4", "p3", "p2"], page2);
        Assert.Equal(["p1"], page3);
        Assert.Empty(page4);
        Assert.Equal([.. page1, .. page2, .. page3], unpaged);
        Assert.Equal(unpaged, noBody);
        Assert.Equal(7, unpaged.Distinct().Count());
    }

    [Fact]
    public async Task A_page_holds_50_users_unless_a_size_is_given()
    {
        var client = _server.Client(ShanghaiServer.DefaultSize);
        for (var batch = 0; batch < 3; batch++)
        {
            var users = Enumerable.Range(batch * 20, batch == 2 ? 12 : 20).Select(i => ("userId", $"d{i}"));
            Assert.Equal("{\"code\":200}", (await client.PostAsync("/user/block.json", [.. users, ("minute", "60")])).Body);
        }

        var first = await client.PostAsync("/user/block/query.json", ("page", "1"));
        var second = await client.PostAsync("/user/block/query.json", ("page", "2"));
        var all = await client.PostAsync("/user/block/query.json");

        Assert.Equal(50, first.Json.GetProperty("users").GetArrayLength());
        Assert.Equal(2, second.Json.GetProperty("users").GetArrayLength());
        Assert.Equal(52, all.Json.GetProperty("users").GetArrayLength());
    }

    [Fact]
    public async Task An_expired_ban_is_never_listed_even_at_its_end_time()
    {
        var client = _server.Client(ShanghaiServer.Expiry);
        await client.PostAsync("/user/block.json", ("userId", "one-minute"), ("minute", "1"));
        await client.PostAsync("/user/block.json", ("userId", "three-minutes"), ("minute", "3"));
        Assert.Equal(2, (await client.PostAsync("/user/block/query.json")).Json.GetProperty("users").GetArrayLength());

        _server.Clock.Advance(TimeSpan.FromMinutes(1));
        var atFirstEnd = await client.PostAsync("/user/block/query.json");

        Assert.Equal(HttpStatusCode.OK, atFirstEnd.Status);
        Assert.DoesNotContain("one-minute", atFirstEnd.Body);
        Assert.Contains("three-minutes", atFirstEnd.Body);

        _server.Clock.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(1));
        Assert.Equal("{\"code\":200,\"users\":[],\"total\":0}", (await client.PostAsync("/user/block/query.json")).Body);
        Assert.False((await _server.Engine.GetStatusAsync(new UserKey(ShanghaiServer.Expiry.AppKey, "three-minutes"))).IsBanned);
    }
}
