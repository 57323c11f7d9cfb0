using System.Net;
using System.Net.Http.Headers;
using System.Text;
using BanActors.Bans;
using BanActors.Server.Tests.Support;

namespace BanActors.Server.Tests;

/// <summary>
/// RongCloud's error codes for bad input (1002, 1003, 1005), each with a check that nothing changed: every test
/// here uses app V, whose block list must stay empty, and the named users must stay unbanned.
/// </summary>
public sealed class ValidationSpecs(DefaultServer fixture) : IClassFixture<DefaultServer>
{
    private readonly ServerHost _server = fixture.Server;
    private RongCloudClient V => _server.Client(TestApps.Validation);

    public static TheoryData<string, string> BadBlockRequests => new()
    {
        { "userId=v1&minute=0", "minute 0" },
        { "userId=v1&minute=43201", "minute above 30 days" },
        { "userId=v1&minute=-5", "negative minute" },
        { "userId=v1&minute=1.5", "fractional minute" },
        { "userId=v1&minute=1e3", "exponent" },
        { "userId=v1&minute=%2B10", "plus sign" },
        { "userId=v1&minute=%2010", "leading space" },
        { "userId=v1&minute=ten", "non-numeric minute" },
        { "userId=v1&minute=99999999999999999999", "minute beyond int" },
        { "userId=v1&minute=", "empty minute" },
        { "userId=v1", "missing minute" },
        { "userId=v1&minute=10&minute=20", "two minutes" },
        { "minute=10", "missing userId" },
        { "userId=&minute=10", "empty userId" },
        { "userId=v1&userId=&minute=10", "one empty userId among others" },
    };

    [Theory]
    [MemberData(nameof(BadBlockRequests))]
    public async Task A_missing_malformed_or_out_of_range_parameter_is_1002_and_bans_nobody(string body, string why)
    {
        var response = await V.PostRawAsync("/user/block.json", body, Signing.Default);

        Assert.True(response.Status == HttpStatusCode.BadRequest, $"{why}: {response}");
        Assert.Equal(1002, response.Code);
        Assert.Equal("/user/block.json", response.Json.GetProperty("url").GetString());
        Assert.False(string.IsNullOrWhiteSpace(response.Json.GetProperty("errorMessage").GetString()));
        await AssertNothingBannedAsync("v1");
    }

    [Fact]
    public async Task The_minute_bounds_1_and_43200_are_accepted_and_the_changes_undone()
    {
        Assert.Equal("{\"code\":200}", (await V.PostAsync("/user/block.json", ("userId", "edge1"), ("minute", "1"))).Body);
        Assert.Equal("{\"code\":200}", (await V.PostAsync("/user/block.json", ("userId", "edge2"), ("minute", "43200"))).Body);
        Assert.Equal(2, (await V.PostAsync("/user/block/query.json")).Json.GetProperty("users").GetArrayLength());

        Assert.Equal("{\"code\":200}", (await V.PostAsync("/user/unblock.json", ("userId", "edge1"), ("userId", "edge2"))).Body);
        await AssertNothingBannedAsync("edge1", "edge2");
    }

    [Fact]
    public async Task More_than_20_user_ids_is_1005_and_bans_none_of_them()
    {
        var users = Enumerable.Range(1, 21).Select(i => ("userId", $"many-{i}")).ToList();

        var response = await V.PostAsync("/user/block.json", [.. users, ("minute", "10")]);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal(1005, response.Code);
        await AssertNothingBannedAsync(users.Select(u => u.Item2).ToArray());
    }

    [Fact]
    public async Task A_user_id_over_64_characters_is_1005_and_the_valid_ones_of_the_batch_are_not_banned_either()
    {
        var users = Enumerable.Range(1, 19).Select(i => ("userId", $"ok-{i}")).Append(("userId", new string('y', 65))).ToList();

        var response = await V.PostAsync("/user/block.json", [.. users, ("minute", "10")]);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal(1005, response.Code);
        await AssertNothingBannedAsync(users.Take(19).Select(u => u.Item2).ToArray());
    }

    [Fact]
    public async Task A_refused_unblock_changes_nothing()
    {
        var a = _server.Client(TestApps.A);
        Assert.Equal("{\"code\":200}", (await a.PostAsync("/user/block.json", ("userId", "stays-banned"), ("minute", "10"))).Body);

        var tooMany = await a.PostAsync("/user/unblock.json",
            [.. Enumerable.Range(0, 20).Select(i => ("userId", $"other-{i}")), ("userId", "stays-banned")]);
        var tooLong = await a.PostAsync("/user/unblock.json", ("userId", "stays-banned"), ("userId", new string('z', 65)));
        var empty = await a.PostAsync("/user/unblock.json", ("userId", "stays-banned"), ("userId", ""));
        var missing = await a.PostAsync("/user/unblock.json", ("user", "stays-banned"));

        Assert.Equal(1005, tooMany.Code);
        Assert.Equal(1005, tooLong.Code);
        Assert.Equal(1002, empty.Code);
        Assert.Equal(1002, missing.Code);
        Assert.True((await _server.Engine.GetStatusAsync(new UserKey(TestApps.A.AppKey, "stays-banned"))).IsBanned);
    }

    [Theory]
    [InlineData("/user/block.json")]
    [InlineData("/user/unblock.json")]
    [InlineData("/user/checkOnline.json")]
    [InlineData("/user/getToken.json")]
    public async Task An_empty_body_is_1003_where_parameters_are_required(string path)
    {
        var none = await V.PostRawAsync(path, null, Signing.Default);
        var empty = await V.PostRawAsync(path, "", Signing.Default);

        Assert.Equal(HttpStatusCode.BadRequest, none.Status);
        Assert.Equal(1003, none.Code);
        Assert.Equal(path, none.Json.GetProperty("url").GetString());
        Assert.Equal(1003, empty.Code);
        await AssertNothingBannedAsync();
    }

    [Fact]
    public async Task The_block_list_accepts_an_empty_body_as_the_official_sdks_send_it()
    {
        var none = await V.PostRawAsync("/user/block/query.json", null, Signing.Default);
        var empty = await V.PostRawAsync("/user/block/query.json", "", Signing.Default, contentType: null);

        Assert.Equal("{\"code\":200,\"users\":[],\"total\":0}", none.Body);
        Assert.Equal("{\"code\":200,\"users\":[],\"total\":0}", empty.Body);
    }

    [Theory]
    [InlineData("page=-1")]
    [InlineData("page=x")]
    [InlineData("size=0")]
    [InlineData("size=1001")]
    [InlineData("page=1&size=-3")]
    public async Task Bad_paging_parameters_are_1002(string body)
    {
        var response = await V.PostRawAsync("/user/block/query.json", body, Signing.Default);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal(1002, response.Code);
    }

    [Fact]
    public async Task Check_online_and_get_token_refuse_bad_user_ids()
    {
        Assert.Equal(1002, (await V.PostAsync("/user/checkOnline.json", ("userId", ""))).Code);
        Assert.Equal(1002, (await V.PostAsync("/user/checkOnline.json", ("userId", "a"), ("userId", "b"))).Code);
        Assert.Equal(1005, (await V.PostAsync("/user/checkOnline.json", ("userId", new string('c', 65)))).Code);
        Assert.Equal(1002, (await V.PostAsync("/user/getToken.json", ("name", "no id"))).Code);
        Assert.Equal(1005, (await V.PostAsync("/user/getToken.json", ("userId", new string('t', 65)))).Code);
        Assert.Equal(1005, (await V.PostAsync("/user/getToken.json", ("userId", "t"), ("name", new string('n', 129)))).Code);
        Assert.Equal(1005, (await V.PostAsync("/user/getToken.json", ("userId", "t"), ("portraitUri", new string('p', 1025)))).Code);
    }

    [Fact]
    public async Task A_body_that_is_not_a_form_is_1002()
    {
        var response = await V.PostRawAsync("/user/block.json", "{\"userId\":\"json\",\"minute\":10}", Signing.Default,
            contentType: "application/json");

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal(1002, response.Code);
        await AssertNothingBannedAsync("json");
    }

    [Fact]
    public async Task A_form_without_a_content_type_is_still_read()
    {
        var response = await V.PostRawAsync("/user/checkOnline.json", "userId=plain", Signing.Default, contentType: null);

        Assert.Equal("{\"code\":200,\"status\":\"0\"}", response.Body);
    }

    [Fact]
    public async Task A_body_over_the_cap_is_refused_with_1005_before_it_is_read()
    {
        var body = "minute=10&userId=big&pad=" + new string('p', 70 * 1024);

        var response = await V.PostRawAsync("/user/block.json", body, Signing.Default);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal(1005, response.Code);
        await AssertNothingBannedAsync("big");
    }

    [Fact]
    public async Task A_chunked_body_over_the_cap_is_cut_off_and_refused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/user/block.json")
        {
            Content = new StreamContent(new MemoryStream(Encoding.ASCII.GetBytes(
                "minute=10&userId=chunked&pad=" + new string('p', 70 * 1024)))),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        request.Headers.TransferEncodingChunked = true;
        V.Sign(request, Signing.Default);

        using var response = await _server.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"code\":1005", await response.Content.ReadAsStringAsync());
        await AssertNothingBannedAsync("chunked");
    }

    [Fact]
    public async Task A_get_is_not_an_endpoint_and_changes_nothing()
    {
        using var response = await _server.Http.GetAsync("/user/block.json?userId=get&minute=10");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        await AssertNothingBannedAsync("get");
    }

    private async Task AssertNothingBannedAsync(params string[] userIds)
    {
        var list = await V.PostAsync("/user/block/query.json");
        Assert.Equal("{\"code\":200,\"users\":[],\"total\":0}", list.Body);
        foreach (var id in userIds)
            Assert.False((await _server.Engine.GetStatusAsync(new UserKey(TestApps.Validation.AppKey, id))).IsBanned, id);
    }
}
