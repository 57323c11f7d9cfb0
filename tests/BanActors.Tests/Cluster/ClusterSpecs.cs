using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Persistence.Query;
using Akka.Streams;
using BanActors.Bans;
using BanActors.Cluster;
using BanActors.Hosting;
using BanActors.Sessions;
using BanActors.Storage;
using BanActors.Tests.Shared;
using BanActors.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace BanActors.Tests.Cluster;

/// <summary>
/// Three cluster nodes in this process on a real PostgreSQL journal, sharing one fake clock. Node 2 is started first
/// and is the seed, so it is the oldest member: it hosts the expiry singleton and the shard coordinator, and losing
/// it exercises every hand-over at once.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterSpecs : Akka.TestKit.Xunit2.TestKit
{
    private const string App = "app1";
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 8, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Converge = ThreeNodeCluster.Converge;
    private readonly StartedNodes _nodes = new();
    private readonly PostgresServer _postgres;
    private readonly ITestOutputHelper _output;

    public ClusterSpecs(PostgresServer postgres, ITestOutputHelper output) : base(SpecConfig.With("akka.loglevel = WARNING"), output: output)
    {
        _postgres = postgres;
        _output = output;
    }
    private readonly System.Diagnostics.Stopwatch _elapsed = System.Diagnostics.Stopwatch.StartNew();

    private void Step(string what) => _output.WriteLine($"[{_elapsed.Elapsed.TotalSeconds,6:0.0} s] {what}");

    [SkippableFact]
    public async Task A_ban_through_one_node_kicks_the_sessions_on_another_and_refuses_a_connect_on_a_third()
    {
        _postgres.RequireOrSkip();
        var clock = new FakeTimeProvider(Start);
        var (node1, node2, node3) = await StartClusterAsync(await _postgres.CreateDatabaseAsync("kicks"), clock);
        var user = new UserKey(App, "alice");

        var session = new RecordingSession("alice-on-node3");
        Assert.True((await node3.Engine.RegisterSessionAsync(user, session)).IsAccepted);
        Assert.True(await node1.Engine.IsOnlineAsync(user), "node 1 sees alice's session on node 3");
        Assert.True(await node2.Engine.IsOnlineAsync(user), "node 2 sees alice's session on node 3");

        var accepted = await node1.Engine.BanAsync(user, 30);
        Assert.Equal(Start.AddMinutes(30), accepted.Until);

        await AwaitAssertAsync(() => Assert.Equal(ConnectionCodes.UserBlocked, session.KickedWith), Converge);
        var refused = await node2.Engine.RegisterSessionAsync(user, new RecordingSession("alice-on-node2"));
        var refusal = Assert.IsType<SessionRefused>(refused);
        Assert.Equal(ConnectionCodes.UserBlocked, refusal.Code);
        Assert.False(await node1.Engine.IsOnlineAsync(user));
        await AwaitAssertAsync(async () =>
        {
            var page = await node3.Engine.ListActiveAsync(App, 0, 50);
            Assert.Equal([("alice", accepted.Until)], page.Bans.Select(b => (b.UserId, b.Until)));
        }, Converge);

        clock.Advance(TimeSpan.FromMinutes(30));
        await AwaitAssertAsync(async () =>
            Assert.True((await node2.Engine.RegisterSessionAsync(user, new RecordingSession("alice-again"))).IsAccepted), Converge);
    }

    [SkippableFact]
    public async Task Bans_held_by_a_crashed_node_lift_at_their_end_times_on_the_survivors()
    {
        _postgres.RequireOrSkip();
        var clock = new FakeTimeProvider(Start);
        var (node1, node2, node3) = await StartClusterAsync(await _postgres.CreateDatabaseAsync("node_loss"), clock,
            idleTimeout: TimeSpan.FromSeconds(2));

        var until = new Dictionary<UserKey, DateTimeOffset>();
        for (var i = 0; i < 24; i++)
        {
            var user = new UserKey(App, $"user-{i}");
            until[user] = (await node1.Engine.BanAsync(user, 10 + i)).Until;
        }
        var extractor = new UserMessageExtractor();
        var shardsOnNode2 = await ShardsOfAsync(node2);
        var heldByNode2 = until.Keys.Where(u => shardsOnNode2.Contains(extractor.ShardId((u).EntityId, null))).ToList();
        Assert.NotEmpty(heldByNode2);

        // Acknowledged by node 2 itself just before it dies: the DistributedPubSub notification may never leave it.
        var late = Enumerable.Range(0, 2000).Select(i => new UserKey(App, $"late-{i}"))
            .Where(u => shardsOnNode2.Contains(extractor.ShardId((u).EntityId, null))).Take(5).ToList();
        foreach (var user in late) until[user] = (await node2.Engine.BanAsync(user, 45)).Until;

        Step($"{heldByNode2.Count} + {late.Count} bans held by node 2; crashing it");
        // No Down by hand: the split-brain resolver (keep-majority) must down the silent node by itself.
        await node2.CrashAsync();
        await AwaitAssertAsync(() =>
        {
            foreach (var survivor in new[] { node1, node3 })
            {
                var members = survivor.Cluster.State.Members;
                Assert.Equal(2, members.Count);
                Assert.All(members, m => Assert.Equal(MemberStatus.Up, m.Status));
            }
        }, Converge);
        Step("node 2 downed by the split-brain resolver and removed");
        await AwaitIndexReadyAsync(node1);
        Step("index singleton ready on a survivor");
        await AwaitAssertAsync(async () =>
        {
            var page = await node3.Engine.ListActiveAsync(App, 0, 0);
            Assert.Equal(until.OrderBy(kv => kv.Key.UserId).Select(kv => (kv.Key.UserId, kv.Value)),
                page.Bans.OrderBy(b => b.UserId).Select(b => (b.UserId, b.Until)));
        }, Converge);

        await EveryBanLiftsAtItsEndAsync(node1, clock, until);
    }

    [SkippableFact]
    public async Task After_a_whole_cluster_restart_running_bans_are_rearmed_and_lift_on_time()
    {
        _postgres.RequireOrSkip();
        var clock = new FakeTimeProvider(Start);
        var connectionString = await _postgres.CreateDatabaseAsync("restart");
        var (node1, node2, node3) = await StartClusterAsync(connectionString, clock);
        var until = new Dictionary<UserKey, DateTimeOffset>();
        var nodes = new[] { node1, node2, node3 };
        for (var i = 0; i < 9; i++)
        {
            var user = new UserKey(App, $"restart-{i}");
            until[user] = (await nodes[i % 3].Engine.BanAsync(user, 20 + i)).Until;
        }

        Step("bans placed; stopping every node gracefully");
        foreach (var node in new[] { node3, node1, node2 }) await node.StopGracefullyAsync();
        Step("cluster stopped");
        _nodes.Clear();
        clock.Advance(TimeSpan.FromMinutes(5));

        (node1, _, _) = await StartClusterAsync(connectionString, clock);
        await AwaitAssertAsync(async () =>
        {
            var page = await node1.Engine.ListActiveAsync(App, 0, 0);
            Assert.Equal(until.Count, page.Bans.Count);
        }, Converge);
        foreach (var (user, end) in until)
            Assert.Equal(end, (await node1.Engine.GetStatusAsync(user)).Until);

        await EveryBanLiftsAtItsEndAsync(node1, clock, until);
    }

    // Moves the clock past the last end time and waits until every ban is recorded as expired at its end and
    // the block list is empty.
    private async Task EveryBanLiftsAtItsEndAsync(ClusterNode node, FakeTimeProvider clock,
        IReadOnlyDictionary<UserKey, DateTimeOffset> until)
    {
        Step("every ban listed; moving the clock past the last end time");
        clock.Advance(until.Values.Max() - clock.GetUtcNow());
        await AwaitAssertAsync(async () =>
        {
            // Retries of unconfirmed expiries are scheduled on the fake clock.
            clock.Advance(TimeSpan.FromSeconds(5));
            var last = await LastEventsAsync(node.System);
            foreach (var (user, end) in until)
            {
                var unbanned = Assert.IsType<UserUnbanned>(last[user]);
                Assert.Equal(UnbanCause.Expired, unbanned.Cause);
                Assert.Equal(end, unbanned.At);
            }
            Assert.Empty((await node.Engine.ListActiveAsync(App, 0, 0)).Bans);
        }, Converge, TimeSpan.FromMilliseconds(50));
        Step("every ban lifted at its end time");
    }

    private Task<(ClusterNode Node1, ClusterNode Node2, ClusterNode Node3)> StartClusterAsync(
        string connectionString, TimeProvider clock, TimeSpan? idleTimeout = null) =>
        ThreeNodeCluster.StartAsync((name, port, seedPort) => ClusterNode.StartAsync(name, port, seedPort, connectionString, clock, idleTimeout),
            _nodes.Add, Step);

    private Task AwaitIndexReadyAsync(ClusterNode node) =>
        AwaitAssertAsync(async () => Assert.True(await node.IsIndexReadyAsync(TimeSpan.FromSeconds(3))), Converge);

    private static async Task<HashSet<string>> ShardsOfAsync(ClusterNode node)
    {
        var state = await node.Region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10));
        return state.Shards.Select(s => s.ShardId).ToHashSet();
    }

    /// <summary>The last journaled ban event of every user, read through the query side.</summary>
    private static async Task<Dictionary<UserKey, object>> LastEventsAsync(ActorSystem system)
    {
        var journal = PersistenceQuery.Get(system).ReadJournalFor<ICurrentEventsByTagQuery>(BanEngineConfig.QueryPluginId);
        var events = new List<EventEnvelope>();
        await journal.CurrentEventsByTag(BanTags.Ban, Offset.NoOffset())
            .RunForeach(events.Add, system.Materializer());
        return events
            .GroupBy(e => e.PersistenceId)
            .Select(g => g.MaxBy(e => e.SequenceNr)!.Event)
            .ToDictionary(e => e switch
            {
                UserBanned b => b.User,
                UserUnbanned u => u.User,
                _ => throw new InvalidOperationException($"unexpected event {e}"),
            });
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _nodes.DisposeAllAsync().Wait(TimeSpan.FromSeconds(30));
        base.Dispose(disposing);
    }

    private sealed class RecordingSession(string id) : IBanSession
    {
        private int _kickedWith;

        public string SessionId => id;

        public int KickedWith => Volatile.Read(ref _kickedWith);

        public void Kick(int code, string reason) => Volatile.Write(ref _kickedWith, code);
    }
}
