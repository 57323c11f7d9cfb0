using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Hosting;
using Akka.TestKit;
using BanActors.Bans;
using BanActors.Cluster;
using BanActors.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace BanActors.Tests.Cluster;

/// <summary>
/// Starts three <see cref="ClusterNode"/>s as one cluster and waits until the engine is usable on every node. Node 2
/// is started first and is the seed, so it is the oldest member: it hosts the expiry singleton and the shard
/// coordinator.
/// </summary>
internal static class ThreeNodeCluster
{
    public static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);

    /// <param name="kit">Waits for convergence (<see cref="TestKitBase.AwaitAssertAsync(Func{Task}, TimeSpan?, TimeSpan?, CancellationToken)"/>).</param>
    /// <param name="started">Told of each node as soon as it runs, so the caller can dispose it even if start-up fails later.</param>
    /// <param name="step">Progress for the test output.</param>
    public static async Task<(ClusterNode Node1, ClusterNode Node2, ClusterNode Node3)> StartAsync(TestKitBase kit,
        string connectionString, TimeProvider clock, Action<ClusterNode> started, Action<string> step,
        TimeSpan? idleTimeout = null)
    {
        step("starting a cluster");
        var seedPort = ClusterNode.FreePort();
        async Task<ClusterNode> StartNodeAsync(string name, int port)
        {
            var node = await ClusterNode.StartAsync(name, port, seedPort, connectionString, clock, idleTimeout);
            started(node);
            return node;
        }

        var node2 = await StartNodeAsync("node2", seedPort);
        await kit.AwaitAssertAsync(() => Assert.Equal(MemberStatus.Up, node2.Cluster.SelfMember.Status), Converge);
        var others = await Task.WhenAll(StartNodeAsync("node1", ClusterNode.FreePort()), StartNodeAsync("node3", ClusterNode.FreePort()));
        var (node1, node3) = (others[0], others[1]);
        var all = new[] { node1, node2, node3 };

        await kit.AwaitAssertAsync(() =>
        {
            foreach (var node in all)
            {
                Assert.Equal(3, node.Cluster.State.Members.Count(m => m.Status == MemberStatus.Up));
                Assert.Empty(node.Cluster.State.Unreachable);
            }
        }, Converge);
        step("three members up");
        // Ban notifications reach a node only once every mediator has learnt of its subscription (gossiped): wait
        // until a probe published on each node arrives on every node. A BanEnded of an unknown user changes nothing.
        var heard = all.ToDictionary(n => n, n => new System.Collections.Concurrent.ConcurrentDictionary<string, bool>());
        foreach (var node in all)
        {
            var received = heard[node];
            var listener = node.System.ActorOf(Props.Create(() => new ProbeListener(received)));
            node.System.EventStream.Subscribe(listener, typeof(BanEnded));
        }
        var attempt = 0;
        var probeTime = clock.GetUtcNow();
        await kit.AwaitAssertAsync(() =>
        {
            attempt++;
            foreach (var node in all)
            {
                DistributedPubSub.Get(node.System).Mediator.Tell(new Publish(ClusterBanEventPublisher.Topic,
                    new BanEnded(new UserKey("probe", $"{node.Name}/{attempt}"), probeTime, UnbanCause.Manual, 0)));
            }
            foreach (var receiver in all)
            foreach (var sender in all)
                Assert.Contains(heard[receiver].Keys, k => k.StartsWith(sender.Name + "/", StringComparison.Ordinal));
        }, Converge, TimeSpan.FromMilliseconds(50));
        step("ban notifications reach every node");
        foreach (var node in all) await AwaitIndexReadyAsync(kit, node);
        step("cluster of three ready");
        return (node1, node2, node3);
    }

    public static async Task AwaitIndexReadyAsync(TestKitBase kit, ClusterNode node)
    {
        var index = node.Host.Services.GetRequiredService<ActorRegistry>().Get<ActiveBanIndexKey>();
        await kit.AwaitAssertAsync(async () =>
            Assert.True(await index.Ask<bool>(IsIndexReady.Instance, TimeSpan.FromSeconds(3))), Converge);
    }

    private sealed class ProbeListener : ReceiveActor
    {
        public ProbeListener(System.Collections.Concurrent.ConcurrentDictionary<string, bool> heard) =>
            Receive<BanEnded>(e =>
            {
                if (e.User.AppKey == "probe") heard[e.User.UserId] = true;
            });
    }
}
