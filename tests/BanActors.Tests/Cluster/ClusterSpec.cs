using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using BanActors.Tests.Shared;
using BanActors.Tests.Support;
using Xunit.Abstractions;

namespace BanActors.Tests.Cluster;

/// <summary>
/// The ground of the specs that start their own three-node clusters (<see cref="ThreeNodeCluster"/>) on the shared
/// PostgreSQL server: start, lose and stop nodes, with timed progress in the output. Every node started is disposed
/// at the end.
/// </summary>
public abstract class ClusterSpec : Akka.TestKit.Xunit2.TestKit
{
    protected const string App = "app1";
    protected static readonly DateTimeOffset Start = new(2026, 11, 26, 8, 0, 0, TimeSpan.Zero);
    protected static readonly TimeSpan Converge = ThreeNodeCluster.Converge;
    private readonly List<ClusterNode> _nodes = new();
    private readonly ITestOutputHelper _output;
    private readonly System.Diagnostics.Stopwatch _elapsed = System.Diagnostics.Stopwatch.StartNew();

    private protected ClusterSpec(PostgresServer postgres, ITestOutputHelper output)
        : base(SpecConfig.With("akka.loglevel = WARNING"), output: output)
    {
        Postgres = postgres;
        _output = output;
    }

    private protected PostgresServer Postgres { get; }

    private protected void Step(string what) => _output.WriteLine($"[{_elapsed.Elapsed.TotalSeconds,6:0.0} s] {what}");

    /// <summary>Three nodes on <paramref name="connectionString"/>; node 2 is the oldest (it hosts the singletons).</summary>
    /// <param name="extraHocon">HOCON over every node's engine configuration.</param>
    private protected Task<(ClusterNode Node1, ClusterNode Node2, ClusterNode Node3)> StartClusterAsync(
        string connectionString, TimeProvider clock, TimeSpan? idleTimeout = null, TimeSpan? askTimeout = null,
        string? extraHocon = null) =>
        ThreeNodeCluster.StartAsync((name, port, seedPort) => ClusterNode.StartAsync(name, port, seedPort, connectionString, clock,
                idleTimeout, askTimeout: askTimeout, extraHocon: extraHocon),
            node => { lock (_nodes) _nodes.Add(node); }, Step);

    /// <summary>Stops every running node gracefully, <paramref name="nodes"/> in that order, as an operator stops a cluster.</summary>
    private protected async Task StopClusterAsync(params ClusterNode[] nodes)
    {
        Step("stopping every node gracefully");
        foreach (var node in nodes.Where(n => !n.System.WhenTerminated.IsCompleted)) await node.StopGracefullyAsync();
        Step("cluster stopped");
    }

    /// <summary>
    /// Crashes <paramref name="lost"/> (no leaving, no Down by hand: the split-brain resolver must down it) and waits
    /// until the <paramref name="survivors"/> see only themselves, Up, and the index singleton answers again.
    /// </summary>
    private protected async Task LoseNodeAsync(ClusterNode lost, params ClusterNode[] survivors)
    {
        Step($"crashing {lost.Name}");
        await lost.CrashAsync();
        await AwaitAssertAsync(() =>
        {
            foreach (var survivor in survivors)
            {
                var members = survivor.Cluster.State.Members;
                Assert.Equal(survivors.Length, members.Count);
                Assert.All(members, m => Assert.Equal(MemberStatus.Up, m.Status));
            }
        }, Converge);
        Step($"{lost.Name} downed by the split-brain resolver and removed");
        await AwaitIndexReadyAsync(survivors[0]);
        Step("index singleton ready on a survivor");
    }

    private protected Task AwaitIndexReadyAsync(ClusterNode node) =>
        AwaitAssertAsync(async () => Assert.True(await node.IsIndexReadyAsync(TimeSpan.FromSeconds(3))), Converge);

    /// <summary>The shards that <paramref name="node"/>'s region hosts now.</summary>
    private protected static async Task<HashSet<string>> ShardsOfAsync(ClusterNode node)
    {
        var state = await node.Region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10));
        return state.Shards.Select(s => s.ShardId).ToHashSet();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            List<ClusterNode> nodes;
            lock (_nodes) nodes = _nodes.ToList();
            Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask())).Wait(TimeSpan.FromSeconds(30));
        }
        base.Dispose(disposing);
    }
}
