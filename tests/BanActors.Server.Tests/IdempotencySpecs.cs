using System.Net;
using BanActors.Server.Tests.Support;

namespace BanActors.Server.Tests;

/// <summary>
/// Safe retries: an <c>Idempotency-Key</c> on block and unblock gets the first answer and changes nothing, per app,
/// within 24 hours, across a restart; the same key with other parameters is refused.
/// </summary>
public sealed class IdempotencySpecs : IAsyncLifetime
{
    private static readonly TestApp App = new("idem", "secret-idem");
    private static readonly TestApp Other = new("idemother", "secret-idemother");
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "banactors-idem-" + Guid.NewGuid().ToString("N"));
    private ServerHost _server = null!;

    public async Task InitializeAsync() => _server = await ServerHost.StartAsync([App, Other], databaseFolder: _folder);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    private static Signing With(string key) => new() { Headers = new Dictionary<string, string> { ["Idempotency-Key"] = key } };

    private Task<ApiResponse> Block(TestApp app, string key, params (string, string)[] form) =>
        _server.Client(app).PostAsync("/user/block.json", With(key), form);

    private async Task<string?> EndOf(string userId)
    {
        var users = (await _server.Client(App).PostAsync("/user/block/query.json")).Json.GetProperty("users").EnumerateArray();
        return users.Where(u => u.GetProperty("userId").GetString() == userId)
            .Select(u => u.GetProperty("blockEndTime").GetString()).SingleOrDefault();
    }

    [Fact]
    public async Task A_retried_ban_gets_the_first_answer_and_does_not_move_its_end_time_even_after_a_restart()
    {
        Assert.Equal("{\"code\":200}", (await Block(App, "k-1", ("userId", "r1"), ("minute", "10"), ("reason", "spam"))).Body);
        var end = await EndOf("r1");
        Assert.NotNull(end);

        _server.Clock.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal("{\"code\":200}", (await Block(App, "k-1", ("userId", "r1"), ("minute", "10"), ("reason", "spam"))).Body);
        Assert.Equal(end, await EndOf("r1"));

        var clock = _server.Clock;
        await _server.DisposeAsync();
        _server = await ServerHost.StartAsync([App, Other], databaseFolder: _folder, clock: clock);
        Assert.Equal("{\"code\":200}", (await Block(App, "k-1", ("userId", "r1"), ("minute", "10"), ("reason", "spam"))).Body);
        Assert.Equal(end, await EndOf("r1"));
        Assert.Single((await _server.Engine.GetHistoryAsync(new UserKey(App.AppKey, "r1"))).Entries);
    }

    [Fact]
    public async Task The_same_key_with_other_parameters_is_refused_with_1002_and_changes_nothing()
    {
        await Block(App, "k-2", ("userId", "c1"), ("minute", "10"), ("reason", "spam"));
        var end = await EndOf("c1");
        foreach (var form in new[]
                 {
                     new[] { ("userId", "c1"), ("minute", "20"), ("reason", "spam") },
                     new[] { ("userId", "c1"), ("minute", "10"), ("reason", "other") },
                     new[] { ("userId", "c1"), ("minute", "10"), ("reason", "spam"), ("operator", "bob") },
                     new[] { ("userId", "c2"), ("minute", "10"), ("reason", "spam") },
                 })
        {
            var refused = await Block(App, "k-2", form);
            Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
            Assert.Equal(1002, refused.Code);
        }
        Assert.Equal(end, await EndOf("c1"));
        Assert.Null(await EndOf("c2"));
        var unblock = await _server.Client(App).PostAsync("/user/unblock.json", With("k-2"), ("userId", "c1"));
        Assert.Equal(1002, unblock.Code);
        Assert.NotNull(await EndOf("c1"));
    }

    [Fact]
    public async Task Keys_are_per_app_forgotten_after_a_day_and_at_most_128_characters()
    {
        await Block(App, "shared", ("userId", "p1"), ("minute", "10"));
        // Another app's same key is its own: the request runs.
        Assert.Equal("{\"code\":200}", (await Block(Other, "shared", ("userId", "p9"), ("minute", "5"))).Body);
        Assert.True((await _server.Engine.GetStatusAsync(new UserKey(Other.AppKey, "p9"))).IsBanned);

        _server.Clock.Advance(TimeSpan.FromHours(24) + TimeSpan.FromMinutes(1));
        Assert.Equal("{\"code\":200}", (await Block(App, "shared", ("userId", "p2"), ("minute", "10"))).Body);
        Assert.True((await _server.Engine.GetStatusAsync(new UserKey(App.AppKey, "p2"))).IsBanned);

        var tooLong = await Block(App, new string('k', 129), ("userId", "p3"), ("minute", "10"));
        Assert.Equal(1005, tooLong.Code);
        Assert.False((await _server.Engine.GetStatusAsync(new UserKey(App.AppKey, "p3"))).IsBanned);
        Assert.Equal("{\"code\":200}", (await Block(App, new string('k', 128), ("userId", "p3"), ("minute", "10"))).Body);
    }

    [Fact]
    public async Task A_key_covers_the_whole_request_of_several_users_and_each_users_ban_is_kept_as_well()
    {
        Assert.Equal("{\"code\":200}", (await Block(App, "k-many", ("userId", "m1"), ("userId", "m2"), ("minute", "10"))).Body);
        var (end1, end2) = (await EndOf("m1"), await EndOf("m2"));

        _server.Clock.Advance(TimeSpan.FromMinutes(3));
        // The same users in another order are the same request; fewer or other users are another one.
        Assert.Equal("{\"code\":200}", (await Block(App, "k-many", ("userId", "m2"), ("userId", "m1"), ("minute", "10"))).Body);
        Assert.Equal(1002, (await Block(App, "k-many", ("userId", "m1"), ("minute", "10"))).Code);
        Assert.Equal(1002, (await Block(App, "k-many", ("userId", "m1"), ("userId", "m2"), ("userId", "m3"), ("minute", "10"))).Code);
        Assert.Equal((end1, end2), (await EndOf("m1"), await EndOf("m2")));
        Assert.Null(await EndOf("m3"));

        // As if the request's own answer had not been kept (e.g. it answered 1000 for a third user): the retry runs,
        // but the users whose bans were made get their first answers, and their end times stay.
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_folder, "bans.db")}"))
        {
            connection.Open();
            using var delete = connection.CreateCommand();
            delete.CommandText = "DELETE FROM api_idempotency WHERE idem_key = 'k-many'";
            Assert.Equal(1, delete.ExecuteNonQuery());
        }
        Assert.Equal("{\"code\":200}", (await Block(App, "k-many", ("userId", "m1"), ("userId", "m2"), ("minute", "10"))).Body);
        Assert.Equal((end1, end2), (await EndOf("m1"), await EndOf("m2")));
        Assert.Single((await _server.Engine.GetHistoryAsync(new UserKey(App.AppKey, "m1"))).Entries);
    }
}
