using System.Net;
using BanActors.Bans;
using BanActors.Server.Tests.Support;
using Microsoft.Data.Sqlite;

namespace BanActors.Server.Tests;

/// <summary>A server that gives up on the journal after 2 s, so that a locked database shows quickly.</summary>
public sealed class ImpatientServer : ServerFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings =>
        new Dictionary<string, string?> { ["BanActors:Engine:AskTimeout"] = "00:00:02" };
}

/// <summary>When the journal cannot store a change the API answers 1000, never 200, and recovers by itself.</summary>
public sealed class JournalFaultSpecs(ImpatientServer fixture) : IClassFixture<ImpatientServer>
{
    private readonly ServerHost _server = fixture.Server;

    [Fact]
    public async Task A_locked_journal_gives_1000_and_an_unhealthy_healthz_then_bans_work_again_once_it_is_released()
    {
        var client = _server.Client(TestApps.A);
        Assert.Equal("{\"code\":200}", (await client.PostAsync("/user/block.json", ("userId", "before"), ("minute", "10"))).Body);

        // Another process holding the database's write lock: every journal write waits, then fails.
        await using (var locker = new SqliteConnection($"Data Source={_server.DatabasePath};Pooling=False"))
        {
            await locker.OpenAsync();
            await using (var begin = locker.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE;";
                await begin.ExecuteNonQueryAsync();
            }

            var single = client.PostAsync("/user/block.json", ("userId", "during"), ("minute", "10"));
            var batch = client.PostAsync("/user/block.json", ("userId", "batch-1"), ("userId", "batch-2"), ("userId", "batch-3"), ("minute", "10"));
            var unblock = client.PostAsync("/user/unblock.json", ("userId", "before"));
            var health = _server.Http.GetAsync("/healthz");
            await Task.WhenAll(single, batch, unblock, health);

            foreach (var response in new[] { await single, await batch, await unblock })
            {
                Assert.True(response.Status == HttpStatusCode.InternalServerError, response.ToString());
                Assert.Equal(1000, response.Code);
                Assert.Equal("application/json; charset=utf-8", response.ContentType);
            }
            using (var unhealthy = await health)
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, unhealthy.StatusCode);
                Assert.Contains("\"reachable\":false", await unhealthy.Content.ReadAsStringAsync());
            }

            await using var commit = locker.CreateCommand();
            commit.CommandText = "COMMIT;";
            await commit.ExecuteNonQueryAsync();
        }

        var after = await UserEndpointSpecs.PollAsync(
            () => client.PostAsync("/user/block.json", ("userId", "after"), ("minute", "10")),
            r => r.Status != HttpStatusCode.InternalServerError);
        Assert.Equal("{\"code\":200}", after.Body);
        Assert.True((await _server.Engine.GetStatusAsync(new UserKey(TestApps.A.AppKey, "after"))).IsBanned);
        Assert.Contains("\"after\"", (await client.PostAsync("/user/block/query.json")).Body);
        using var healthy = await _server.Http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
    }
}
