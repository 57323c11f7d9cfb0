using Akka.Actor;
using BanActors.Bans;
using BanActors.Cluster;
using BanActors.Tests.Shared;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace BanActors.Tests.Cluster;

/// <summary>
/// The expiry index is a cluster singleton; its snapshot lives in the shared snapshot store, so the singleton that
/// starts on a survivor after a failover loads what the lost one saved, then reads only the events after it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterIndexSnapshotSpecs(PostgresServer postgres, ITestOutputHelper output) : ClusterSpec(postgres, output)
{
    [SkippableFact]
    public async Task After_a_failover_the_new_index_starts_from_the_snapshot_the_lost_one_saved_and_the_events_after_it()
    {
        Postgres.RequireOrSkip();
        var clock = new FakeTimeProvider(Start);
        var (node1, node2, node3) = await StartClusterAsync(await Postgres.CreateDatabaseAsync("index_snapshot"), clock,
            extraHocon: "banactors.expiry-index.snapshot { after-changes = 4, min-interval = 0s }");
        var until = new Dictionary<string, DateTimeOffset>();
        for (var i = 0; i < 4; i++) until[$"s{i}"] = (await node1.Engine.BanAsync(new UserKey(App, $"s{i}"), 10 + i)).Until;
        // Node 2 is the oldest: the singleton runs there, and only it saves.
        await AwaitAssertAsync(async () => Assert.Equal(1, (await LoadReportAsync(node2))!.SnapshotsSaved), Converge);
        Step("snapshot saved by the singleton on node 2");

        // After the snapshot (3 changes, below the threshold of 4): an unban, a re-ban with a new end, a new ban.
        await node3.Engine.UnbanAsync(new UserKey(App, "s0"));
        until.Remove("s0");
        until["s1"] = (await node3.Engine.BanAsync(new UserKey(App, "s1"), 40)).Until;
        until["t0"] = (await node3.Engine.BanAsync(new UserKey(App, "t0"), 30)).Until;

        await LoseNodeAsync(node2, node1, node3);
        var load = await LoadReportAsync(node1) ?? await LoadReportAsync(node3);
        Assert.NotNull(load);
        Assert.NotNull(load.SnapshotOffset);
        Assert.Equal(4, load.SnapshotBans);
        await AwaitAssertAsync(async () =>
            Assert.Equal(until.OrderBy(kv => kv.Key), (await node3.Engine.ListActiveAsync(App, 0, 0)).Bans
                .OrderBy(b => b.UserId).Select(b => new KeyValuePair<string, DateTimeOffset>(b.UserId, b.Until))), Converge);

        clock.Advance(until.Values.Max() - clock.GetUtcNow());
        await AwaitAssertAsync(async () =>
        {
            clock.Advance(TimeSpan.FromSeconds(5));
            Assert.Empty((await node1.Engine.ListActiveAsync(App, 0, 0)).Bans);
        }, Converge);
    }

    // Asked on the node itself: the singleton answers only where it runs (null elsewhere).
    private static async Task<IndexLoadReport?> LoadReportAsync(ClusterNode node)
    {
        try
        {
            return await node.System.ActorSelection($"/user/{ClusterTopology.IndexManagerName}/{ClusterTopology.IndexSingletonName}")
                .Ask<IndexLoadReport>(GetIndexLoadReport.Instance, TimeSpan.FromSeconds(3));
        }
        catch (AskTimeoutException)
        {
            return null;
        }
    }
}
