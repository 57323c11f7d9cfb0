using BanActors.Tests.Shared;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace BanActors.Tests.Cluster;

/// <summary>
/// The moderation ledger in cluster mode, on PostgreSQL: a user's history (read from the journal) and the app-wide log
/// (a read side fed by one projection, a cluster singleton on the oldest node) are the same from every node, and
/// survive the loss of the node that runs the projection and a restart of the whole cluster.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterLedgerSpecs(PostgresServer postgres, ITestOutputHelper output) : ClusterSpec(postgres, output)
{
    private static readonly TimeSpan LogLag = TimeSpan.FromSeconds(30);
    private readonly List<BanLogEntry> _changes = new();
    private readonly FakeTimeProvider _clock = new(Start);

    [SkippableFact]
    public async Task History_and_log_hold_every_change_once_from_any_node_after_losing_the_projections_node_and_a_restart()
    {
        Postgres.RequireOrSkip();
        var connectionString = await Postgres.CreateDatabaseAsync("ledger");
        var (node1, node2, node3) = await StartClusterAsync(connectionString, _clock);
        var alice = new UserKey(App, "alice");
        var bob = new UserKey(App, "bob");

        await BanAsync(node1, alice, 60, new BanDetails("spam", "mod-ann"));
        await BanAsync(node1, bob, 90, new BanDetails(Operator: "mod-ann"));
        await UnbanAsync(node3, alice, new BanDetails("appeal accepted", "mod-ben"));
        await EveryChangeIsOnRecordAsync(node2, alice, bob);
        Step("history and log complete, read through node 2");

        var oldest = node1.Cluster.State.Members.Aggregate((a, b) => a.IsOlderThan(b) ? a : b);
        Assert.Equal(node2.Address, oldest.Address);
        await LoseNodeAsync(node2, node1, node3);
        var carol = new UserKey(App, "carol");
        await BanAsync(node3, alice, 120, new BanDetails("spam again", "mod-cat"));
        await UnbanAsync(node1, bob, new BanDetails(Reason: "expired appeal"));
        await BanAsync(node1, carol, 30, new BanDetails("flood", "mod-cat"));
        await EveryChangeIsOnRecordAsync(node3, alice, bob, carol);
        Step("history and log complete after the loss of node 2");

        await StopClusterAsync(node3, node1);
        (node1, _, node3) = await StartClusterAsync(connectionString, _clock);
        await EveryChangeIsOnRecordAsync(node1, alice, bob, carol);
        await UnbanAsync(node3, carol, new BanDetails(Operator: "mod-ann"));
        await EveryChangeIsOnRecordAsync(node1, alice, bob, carol);
        Step("history and log complete after a restart of the cluster");
    }

    private async Task BanAsync(ClusterNode node, UserKey user, int minutes, BanDetails details)
    {
        _clock.Advance(TimeSpan.FromMinutes(1));
        var at = _clock.GetUtcNow();
        await AwaitReachableAsync(node, user);
        var accepted = await node.Engine.BanAsync(user, minutes, details);
        Assert.Equal(at.AddMinutes(minutes), accepted.Until);
        _changes.Add(new BanLogEntry(user.UserId, BanAction.Block, at, minutes, accepted.Until, details.Reason, details.Operator));
    }

    private async Task UnbanAsync(ClusterNode node, UserKey user, BanDetails details)
    {
        _clock.Advance(TimeSpan.FromMinutes(1));
        var at = _clock.GetUtcNow();
        await AwaitReachableAsync(node, user);
        Assert.True((await node.Engine.UnbanAsync(user, details)).WasBanned);
        _changes.Add(new BanLogEntry(user.UserId, BanAction.Unblock, at, Reason: details.Reason, Operator: details.Operator));
    }

    // Right after a node loss the user's shard may still be moving to a survivor, and a change that timed out may
    // have been made anyway: the change waits until the user's actor answers a status query, which is safe to repeat.
    private Task AwaitReachableAsync(ClusterNode node, UserKey user) =>
        AwaitAssertAsync(() => node.Engine.GetStatusAsync(user), Converge);

    /// <summary>
    /// The history of each of <paramref name="users"/> (at once: it is read from the journal) and, eventually, the
    /// app-wide log (fed asynchronously from the journal) through <paramref name="node"/>: every change, newest first,
    /// once, with all its fields.
    /// </summary>
    private async Task EveryChangeIsOnRecordAsync(ClusterNode node, params UserKey[] users)
    {
        var newestFirst = Enumerable.Reverse(_changes).ToList();
        foreach (var user in users)
        {
            var history = await node.Engine.GetHistoryAsync(user, BanRules.MaxHistoryPageSize);
            Assert.Null(history.NextCursor);
            Assert.Equal(
                newestFirst.Where(c => c.UserId == user.UserId)
                    .Select(c => new BanHistoryEntry(c.Action, c.Time, c.Minutes, c.Until, c.Reason, c.Operator)),
                history.Entries);
        }
        await AwaitAssertAsync(async () =>
        {
            // A projection that failed resumes after a delay on the engine's clock.
            _clock.Advance(TimeSpan.FromSeconds(1));
            var log = await node.Engine.GetLogAsync(App, new BanLogQuery(Size: BanRules.MaxLogPageSize));
            Assert.Null(log.NextCursor);
            Assert.Equal(newestFirst, log.Entries);
        }, LogLag, TimeSpan.FromMilliseconds(200));
    }
}
