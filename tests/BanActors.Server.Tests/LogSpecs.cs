using System.Net;
using System.Text.Json;
using BanActors.Server.Tests.Support;

namespace BanActors.Server.Tests;

/// <summary>A server with apps of its own for the app-wide ledger.</summary>
public sealed class LogServer : ServerFixture
{
    public static readonly TestApp Audit = new("audit", "secret-audit");
    public static readonly TestApp Elsewhere = new("elsewhere", "secret-elsewhere");

    protected override IReadOnlyList<TestApp> Apps => [Audit, Elsewhere];
}

/// <summary>
/// The app-wide ledger, <c>/user/block/log.json</c>: every ban, unban and expiry of the app, newest first, fed from the
/// journal; filtered by operator, action, user and time; paged by cursor; one app never sees another's.
/// </summary>
public sealed class LogSpecs(LogServer fixture) : IClassFixture<LogServer>
{
    private readonly ServerHost _server = fixture.Server;

    private RongCloudClient Audit => _server.Client(LogServer.Audit);

    [Fact]
    public async Task The_log_lists_every_change_of_the_app_newest_first_with_filters_and_pages()
    {
        var t0 = _server.Clock.GetUtcNow();
        await Audit.PostAsync("/user/block.json", ("userId", "a1"), ("userId", "a2"), ("minute", "1"), ("operator", "alice"),
            ("reason", "spam"));
        _server.Clock.Advance(TimeSpan.FromSeconds(10));
        await Audit.PostAsync("/user/unblock.json", ("userId", "a2"), ("operator", "bob"));
        await _server.Client(LogServer.Elsewhere).PostAsync("/user/block.json", ("userId", "a1"), ("minute", "5"), ("operator", "alice"));
        _server.Clock.Advance(TimeSpan.FromMinutes(1));
        var log = await PollAsync(new[] { ("size", "10") }, 4);

        var entries = log.GetProperty("log").EnumerateArray().ToList();
        Assert.Equal(4, entries.Count);
        Assert.Equal(("a1", "expire"), Describe(entries[0]));
        Assert.Equal(("a2", "unblock"), Describe(entries[1]));
        Assert.Equal("bob", entries[1].GetProperty("operator").GetString());
        Assert.Equal(["a1", "a2"], entries[2..].Select(e => e.GetProperty("userId").GetString()).Order());
        Assert.All(entries[2..], e =>
        {
            Assert.Equal("block", e.GetProperty("action").GetString());
            Assert.Equal("alice", e.GetProperty("operator").GetString());
            Assert.Equal("spam", e.GetProperty("reason").GetString());
            Assert.Equal(1, e.GetProperty("minute").GetInt32());
        });
        Assert.False(log.TryGetProperty("nextCursor", out _));

        Assert.Equal(2, (await Query(("operator", "alice"))).GetProperty("log").GetArrayLength());
        Assert.Equal(["unblock"], (await Query(("action", "unblock"))).GetProperty("log").EnumerateArray()
            .Select(e => e.GetProperty("action").GetString()));
        Assert.Equal(2, (await Query(("userId", "a2"))).GetProperty("log").GetArrayLength());
        var since = (t0.ToUnixTimeMilliseconds() + 5_000).ToString();
        Assert.Equal(2, (await Query(("from", since))).GetProperty("log").GetArrayLength());
        var until = t0.UtcDateTime.AddSeconds(5).ToString("yyyy-MM-dd HH:mm:ss");
        Assert.Equal(2, (await Query(("to", until))).GetProperty("log").GetArrayLength());

        var first = await Query(("size", "3"));
        var cursor = first.GetProperty("nextCursor").GetString()!;
        var second = await Query(("size", "3"), ("cursor", cursor));
        Assert.Equal(1, second.GetProperty("log").GetArrayLength());
        Assert.False(second.TryGetProperty("nextCursor", out _));
        Assert.Equal("block", second.GetProperty("log")[0].GetProperty("action").GetString());
        var paged = first.GetProperty("log").EnumerateArray().Concat(second.GetProperty("log").EnumerateArray()).Select(Describe);
        Assert.Equal(entries.Select(Describe), paged);
    }

    [Theory]
    [InlineData("action", "ban", 1002)]
    [InlineData("size", "1001", 1002)]
    [InlineData("from", "yesterday", 1002)]
    [InlineData("cursor", "x", 1002)]
    [InlineData("operator", "this-operator-name-is-much-longer-than-sixty-four-characters-allowed-here", 1005)]
    public async Task A_malformed_filter_is_refused(string name, string value, int code)
    {
        var refused = await Audit.PostAsync("/user/block/log.json", (name, value));
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal(code, refused.Code);
    }

    private static (string?, string?) Describe(JsonElement e) => (e.GetProperty("userId").GetString(), e.GetProperty("action").GetString());

    private async Task<JsonElement> Query(params (string, string)[] form)
    {
        var answer = await Audit.PostAsync("/user/block/log.json", form);
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        return answer.Json;
    }

    // The log is a read side of the journal: a change shows in it shortly after it is acknowledged.
    private async Task<JsonElement> PollAsync((string, string)[] form, int entries)
    {
        for (var i = 0; i < 500; i++)
        {
            var log = await Query(form);
            if (log.GetProperty("log").GetArrayLength() >= entries) return log;
            await Task.Delay(20);
        }
        Assert.Fail($"the log did not reach {entries} entries within 10 s");
        return default;
    }
}
