using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Configuration;
using BanActors.Bans;
using BanActors.Cluster;
using BanActors.Hosting;
using BanActors.Storage;

namespace BanActors.Bench.Infra;

/// <summary>
/// One cluster node in the bench process: a plain actor system on 127.0.0.1 running <see cref="ClusterBanEngine.FullConfig"/>
/// and <see cref="ClusterBanEngine.Start"/> (the engine's own cluster wiring, without Akka.Hosting), and the facade.
/// </summary>
public sealed class BenchClusterNode : IAsyncDisposable
{
    public const string SystemName = "banactors-bench";

    private BenchClusterNode(string name, ActorSystem system, BanEngine engine, int port)
    {
        Name = name;
        System = system;
        Engine = engine;
        Port = port;
    }

    public string Name { get; }
    public ActorSystem System { get; }
    public BanEngine Engine { get; }
    public int Port { get; }
    public Akka.Cluster.Cluster Cluster => Akka.Cluster.Cluster.Get(System);

    public static BenchClusterNode Start(string name, int port, int seedPort, string connectionString,
        TimeSpan heartbeatPause, TimeSpan stableAfter)
    {
        var options = new BanEngineOptions
        {
            Storage = { Provider = StorageProvider.PostgreSql, ConnectionString = connectionString },
            AskTimeout = TimeSpan.FromSeconds(30),
        };
        BanEngineConfig.PrepareStorage(options.Storage);
        var cluster = new BanClusterOptions
        {
            SystemName = SystemName,
            Hostname = "127.0.0.1",
            Port = port,
            SeedNodes = [$"127.0.0.1:{seedPort}"],
            AcceptableHeartbeatPause = heartbeatPause,
            StableAfter = stableAfter,
        };
        var config = ConfigurationFactory.ParseString($"""
            akka.loggers = ["BanActors.Bench.Infra.BenchLogger, BanActors.Bench"]
            akka.loglevel = {EngineHost.LogLevel}
            akka.stdout-loglevel = {EngineHost.LogLevel}
            akka.log-dead-letters = off
            akka.log-dead-letters-during-shutdown = off
            # The bench decides how a node goes: Terminate() without leaving is the crash of the node-loss step.
            akka.coordinated-shutdown.run-by-actor-system-terminate = off
            akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
            """).WithFallback(ClusterBanEngine.FullConfig(options.Storage, cluster));
        var system = ActorSystem.Create(SystemName, config);
        var actors = ClusterBanEngine.Start(system, options, cluster);
        return new BenchClusterNode(name, system, new BanEngine(actors, options.AskTimeout), port);
    }

    /// <summary>IsIndexReady through this node's singleton proxy; false when unanswered within <paramref name="timeout"/>.</summary>
    public async Task<bool> IsIndexReadyAsync(TimeSpan timeout)
    {
        try
        {
            return await Engine.Actors.Index.Ask<bool>(IsIndexReady.Instance, timeout).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            return false;
        }
    }

    /// <summary>
    /// Every running ban of <paramref name="app"/> as the block list pages it: 1,000 a page, the HTTP API's largest
    /// page. (A page of 10,000 bans is about 139 kB serialized, over Akka.Remote's 128,000-byte frame, and is
    /// discarded when the singleton is on another node.)
    /// </summary>
    public async Task<int> CountActiveAsync(string app)
    {
        const int size = 1_000;
        var count = 0;
        for (var page = 1; page <= 10_000; page++)
        {
            var got = (await Engine.ListActiveAsync(app, page, size).ConfigureAwait(false)).Bans.Count;
            count += got;
            if (got < size) break;
        }
        return count;
    }

    /// <summary>Stops the node without leaving the cluster, as a crash would: the others must notice and down it.</summary>
    public Task CrashAsync() => System.Terminate();

    public async ValueTask DisposeAsync()
    {
        if (System.WhenTerminated.IsCompleted) return;
        try
        {
            await System.Terminate().WaitAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    /// <summary>
    /// Starts three nodes (the first is the seed and so the oldest member: it hosts the expiry index singleton and
    /// the shard coordinator), then waits until all are Up, ban notifications published on each node reach every
    /// node (DistributedPubSub subscriptions are gossiped), and the index answers ready through every node's proxy.
    /// </summary>
    public static async Task<BenchClusterNode[]> StartThreeAsync(string connectionString, TimeSpan heartbeatPause,
        TimeSpan stableAfter, TimeSpan timeout, List<BenchClusterNode> started, Action<string> step)
    {
        var until = DateTime.UtcNow + timeout;
        void Check(string what)
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"the cluster did not converge within {timeout.TotalSeconds:0} s: {what}");
        }
        var seedPort = Scenarios.RedisPeer.FreePort();
        var first = Start("node1", seedPort, seedPort, connectionString, heartbeatPause, stableAfter);
        started.Add(first);
        while (first.Cluster.SelfMember.Status != MemberStatus.Up)
        {
            Check("node1 Up");
            await Task.Delay(50).ConfigureAwait(false);
        }
        foreach (var name in new[] { "node2", "node3" })
        {
            var port = Scenarios.RedisPeer.FreePort();
            started.Add(Start(name, port, seedPort, connectionString, heartbeatPause, stableAfter));
        }
        var all = started.ToArray();
        while (!all.All(n => n.Cluster.State.Members.Count(m => m.Status == MemberStatus.Up) == 3 && n.Cluster.State.Unreachable.Count == 0))
        {
            Check("three members Up on every node");
            await Task.Delay(50).ConfigureAwait(false);
        }
        step("three members up");

        var heard = all.ToDictionary(n => n, _ => new ConcurrentDictionary<string, bool>());
        foreach (var node in all)
        {
            var received = heard[node];
            var listener = node.System.ActorOf(Props.Create(() => new ProbeListener(received)));
            node.System.EventStream.Subscribe(listener, typeof(BanEnded));
        }
        for (var attempt = 0; ; attempt++)
        {
            foreach (var node in all)
            {
                DistributedPubSub.Get(node.System).Mediator.Tell(new Publish(ClusterBanEventPublisher.Topic,
                    new BanEnded(new UserKey("probe", $"{node.Name}/{attempt}"), DateTimeOffset.UtcNow, UnbanCause.Manual, 0)));
            }
            await Task.Delay(100).ConfigureAwait(false);
            if (all.All(r => all.All(s => heard[r].Keys.Any(k => k.StartsWith(s.Name + "/", StringComparison.Ordinal))))) break;
            Check("ban notifications reach every node");
        }
        step("ban notifications reach every node");
        foreach (var node in all)
        {
            while (!await node.IsIndexReadyAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false))
            {
                Check($"index ready through {node.Name}");
                await Task.Delay(50).ConfigureAwait(false);
            }
        }
        step("index singleton ready through every node's proxy");
        return all;
    }

    private sealed class ProbeListener : ReceiveActor
    {
        public ProbeListener(ConcurrentDictionary<string, bool> heard) =>
            Receive<BanEnded>(e =>
            {
                if (e.User.AppKey == "probe") heard[e.User.UserId] = true;
            });
    }
}
