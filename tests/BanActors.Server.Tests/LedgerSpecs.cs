using System.Net;
using System.Text.Json;
using BanActors.Server.Tests.Support;

namespace BanActors.Server.Tests;

/// <summary>A server with apps of its own for the ledger specs.</summary>
public sealed class LedgerServer : ServerFixture
{
    public static readonly TestApp Mod = new("mod", "secret-mod");
    public static readonly TestApp Other = new("modother", "secret-modother");

    protected override IReadOnlyList<TestApp> Apps => [Mod, Other];
}

/// <summary>
/// The moderation ledger on a real Kestrel: reason and operator on block and unblock, the block list's start time and
/// total, and every user's history (newest first, paged by cursor), each app seeing only its own.
/// </summary>
public sealed class LedgerSpecs(LedgerServer fixture) : IClassFixture<LedgerServer>
{
    private readonly ServerHost _server = fixture.Server;

    private RongCloudClient Mod => _server.Client(LedgerServer.Mod);

    [Fact]
    public async Task A_ban_records_its_reason_and_operator_and_the_block_list_shows_them_with_its_start_and_the_total()
    {
        var start = _server.Clock.GetUtcNow();
        var ok = await Mod.PostAsync("/user/block.json", ("userId", "spammer"), ("minute", "10"), ("reason", "spam links"),
            ("operator", "alice"));
        Assert.Equal("{\"code\":200}", ok.Body);
        await Mod.PostAsync("/user/block.json", ("userId", "quiet"), ("minute", "5"));

        var list = await Mod.PostAsync("/user/block/query.json", ("page", "1"), ("size", "1"));
        Assert.Equal(HttpStatusCode.OK, list.Status);
        Assert.Single(list.Json.GetProperty("users").EnumerateArray());
        var spammer = (await Mod.PostAsync("/user/block/query.json")).Json.GetProperty("users").EnumerateArray()
            .Single(u => u.GetProperty("userId").GetString() == "spammer");
        Assert.Equal(Format(start), spammer.GetProperty("blockStartTime").GetString());
        Assert.Equal(Format(start.AddMinutes(10)), spammer.GetProperty("blockEndTime").GetString());
        Assert.Equal("spam links", spammer.GetProperty("reason").GetString());
        Assert.Equal("alice", spammer.GetProperty("operator").GetString());
        // The whole count of running bans of the app, on a paged query too.
        Assert.True(list.Json.GetProperty("total").GetInt32() >= 2);

        var all = await Mod.PostAsync("/user/block/query.json");
        var quiet = all.Json.GetProperty("users").EnumerateArray().Single(u => u.GetProperty("userId").GetString() == "quiet");
        Assert.False(quiet.TryGetProperty("reason", out _), "no reason given, none shown");
        Assert.False(quiet.TryGetProperty("operator", out _));
    }

    [Theory]
    [InlineData("reason", 513)]
    [InlineData("operator", 65)]
    public async Task A_reason_or_operator_over_its_limit_is_refused_with_1005_and_changes_nothing(string field, int length)
    {
        var user = $"long-{field}";
        var refused = await Mod.PostAsync("/user/block.json", ("userId", user), ("minute", "10"), (field, new string('x', length)));
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal(1005, refused.Code);
        Assert.False((await _server.Engine.GetStatusAsync(new UserKey(LedgerServer.Mod.AppKey, user))).IsBanned);

        var atLimit = await Mod.PostAsync("/user/block.json", ("userId", user), ("minute", "10"), (field, new string('x', length - 1)));
        Assert.Equal("{\"code\":200}", atLimit.Body);
        var unblock = await Mod.PostAsync("/user/unblock.json", ("userId", user), (field, new string('x', length)));
        Assert.Equal(1005, unblock.Code);
        Assert.True((await _server.Engine.GetStatusAsync(new UserKey(LedgerServer.Mod.AppKey, user))).IsBanned);
    }

    [Fact]
    public async Task A_users_history_lists_bans_re_bans_unbans_and_expiries_newest_first_in_pages()
    {
        var t0 = _server.Clock.GetUtcNow();
        await Mod.PostAsync("/user/block.json", ("userId", "hist"), ("minute", "10"), ("reason", "spam"), ("operator", "alice"));
        _server.Clock.Advance(TimeSpan.FromMinutes(1));
        await Mod.PostAsync("/user/block.json", ("userId", "hist"), ("minute", "20"), ("operator", "carol"));
        _server.Clock.Advance(TimeSpan.FromMinutes(1));
        await Mod.PostAsync("/user/unblock.json", ("userId", "hist"), ("operator", "bob"), ("reason", "appeal"));
        await Mod.PostAsync("/user/block.json", ("userId", "hist"), ("minute", "1"));
        var t2 = _server.Clock.GetUtcNow();
        _server.Clock.Advance(TimeSpan.FromMinutes(1));
        await PollAsync(async () => !(await _server.Engine.GetStatusAsync(new UserKey(LedgerServer.Mod.AppKey, "hist"))).IsBanned
            && (await History("hist", 5)).GetProperty("history").GetArrayLength() == 5);

        var page = await History("hist", 5);
        Assert.Equal("hist", page.GetProperty("userId").GetString());
        Assert.False(page.TryGetProperty("nextCursor", out _), "one page holds all five");
        var entries = page.GetProperty("history").EnumerateArray().ToList();
        Assert.Equal(["expire", "block", "unblock", "block", "block"], entries.Select(e => e.GetProperty("action").GetString()));
        Assert.Equal(Format(t2.AddMinutes(1)), entries[0].GetProperty("time").GetString());
        Assert.Equal(1, entries[1].GetProperty("minute").GetInt32());
        Assert.Equal("bob", entries[2].GetProperty("operator").GetString());
        Assert.Equal("appeal", entries[2].GetProperty("reason").GetString());
        Assert.False(entries[2].TryGetProperty("minute", out _));
        Assert.Equal("carol", entries[3].GetProperty("operator").GetString());
        Assert.Equal(20, entries[3].GetProperty("minute").GetInt32());
        Assert.Equal(Format(t0), entries[4].GetProperty("time").GetString());
        Assert.Equal(Format(t0.AddMinutes(10)), entries[4].GetProperty("blockEndTime").GetString());
        Assert.Equal("spam", entries[4].GetProperty("reason").GetString());
        Assert.Equal("alice", entries[4].GetProperty("operator").GetString());

        // Pages of two, each continuing where the previous one stopped; the last has no cursor.
        var seen = new List<string?>();
        string? cursor = null;
        for (var i = 0; i < 3; i++)
        {
            var next = await History("hist", 2, cursor);
            seen.AddRange(next.GetProperty("history").EnumerateArray().Select(e => e.GetProperty("action").GetString()));
            cursor = next.TryGetProperty("nextCursor", out var c) ? c.GetString() : null;
            if (i < 2) Assert.NotNull(cursor);
        }
        Assert.Null(cursor);
        Assert.Equal(["expire", "block", "unblock", "block", "block"], seen);
    }

    [Fact]
    public async Task A_user_never_banned_and_another_apps_user_have_an_empty_history()
    {
        Assert.Empty((await History("never-banned", 20)).GetProperty("history").EnumerateArray());
        await Mod.PostAsync("/user/block.json", ("userId", "mine"), ("minute", "10"), ("reason", "secret"));
        var other = await _server.Client(LedgerServer.Other).PostAsync("/user/block/history.json", ("userId", "mine"));
        Assert.Equal(HttpStatusCode.OK, other.Status);
        Assert.Empty(other.Json.GetProperty("history").EnumerateArray());
        Assert.DoesNotContain("secret", other.Body);
    }

    [Theory]
    [InlineData("size", "0", 1002)]
    [InlineData("size", "101", 1002)]
    [InlineData("size", "x", 1002)]
    [InlineData("cursor", "not-a-cursor", 1002)]
    [InlineData("cursor", "-1", 1002)]
    public async Task A_malformed_history_parameter_is_refused(string name, string value, int code)
    {
        var refused = await Mod.PostAsync("/user/block/history.json", ("userId", "u1"), (name, value));
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal(code, refused.Code);
        var missing = await Mod.PostAsync("/user/block/history.json", ("size", "5"));
        Assert.Equal(1002, missing.Code);
    }

    private async Task<JsonElement> History(string userId, int size, string? cursor = null)
    {
        var form = new List<(string, string)> { ("userId", userId), ("size", size.ToString()) };
        if (cursor is not null) form.Add(("cursor", cursor));
        var answer = await Mod.PostAsync("/user/block/history.json", form.ToArray());
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        return answer.Json;
    }

    private static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss");

    private static async Task PollAsync(Func<Task<bool>> done)
    {
        for (var i = 0; i < 300; i++)
        {
            if (await done()) return;
            await Task.Delay(20);
        }
        Assert.Fail("the condition did not hold within 6 s");
    }
}
