using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Hosting;
using BanActors.Bans;
using BanActors.Cluster;
using BanActors.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BanActors.Testing;

/// <summary>
/// One cluster node in the test or bench process: a real generic host running <c>AddBanEngineCluster</c> on 127.0.0.1,
/// exactly as an IM backend would run a node.
/// </summary>
internal sealed class ClusterNode : IAsyncDisposable
{
    public const string SystemName = "banactors-test";

    private ClusterNode(string name, IHost host, int port)
    {
        Name = name;
        Host = host;
        Port = port;
        System = host.Services.GetRequiredService<ActorSystem>();
        Engine = host.Services.GetRequiredService<BanEngine>();
    }

    public string Name { get; }

    public IHost Host { get; }

    public int Port { get; }

    public ActorSystem System { get; }

    public BanEngine Engine { get; }

    /// <summary>This node's "bans" shard region.</summary>
    public IActorRef Region => Engine.Actors.Bans;

    public Akka.Cluster.Cluster Cluster => Akka.Cluster.Cluster.Get(System);

    public Address Address => Cluster.SelfAddress;

    /// <param name="heartbeatPause">
    /// Several systems on two shared cores: heartbeats arrive late, a node must not be declared dead for it (Akka's
    /// default pause is 3 s). A crashed node is then noticed after about this long.
    /// </param>
    /// <param name="stableAfter">
    /// Singletons (the expiry index, the shard coordinator) wait this long after a downed node's removal before starting
    /// elsewhere; production keeps the default 20 s.
    /// </param>
    /// <param name="extraHocon">HOCON over the engine's own (loggers, log levels).</param>
    /// <param name="handlers">This node's event handlers, registered in DI as an IM backend registers them on each node.</param>
    /// <param name="askTimeout">How long the engine waits for an answer (20 s by default).</param>
    public static async Task<ClusterNode> StartAsync(string name, int port, int seedPort, string connectionString,
        TimeProvider clock, TimeSpan? idleTimeout = null, TimeSpan? heartbeatPause = null, TimeSpan? stableAfter = null,
        string? extraHocon = null, IReadOnlyList<IBanEventHandler>? handlers = null, TimeSpan? askTimeout = null)
    {
        var options = new BanEngineOptions
        {
            Storage = { Provider = StorageProvider.PostgreSql, ConnectionString = connectionString },
            IdleTimeout = idleTimeout ?? TimeSpan.FromMinutes(2),
            AskTimeout = askTimeout ?? TimeSpan.FromSeconds(20),
        };
        var cluster = new BanClusterOptions
        {
            SystemName = SystemName,
            Hostname = "127.0.0.1",
            Port = port,
            SeedNodes = [$"127.0.0.1:{seedPort}"],
            AcceptableHeartbeatPause = heartbeatPause ?? TimeSpan.FromSeconds(15),
            FailureDetectorThreshold = 15,
            StableAfter = stableAfter ?? TimeSpan.FromSeconds(5),
        };
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            EnvironmentName = "Test",
        });
        builder.Services.AddSingleton(clock);
        foreach (var handler in handlers ?? []) builder.Services.AddSingleton(handler);
        builder.Services.AddBanEngineCluster(options, cluster, (akka, _) => akka.AddHocon($"""
            akka.loglevel = WARNING
            akka.stdout-loglevel = WARNING
            # Tests decide how a node goes: Crash() terminates without leaving, StopGracefullyAsync() leaves first.
            akka.coordinated-shutdown.run-by-actor-system-terminate = off
            akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
            akka.persistence.query.journal.sql.refresh-interval = 200ms
            {extraHocon ?? ""}
            """, HoconAddMode.Prepend));
        var host = builder.Build();
        await host.StartAsync().ConfigureAwait(false);
        return new ClusterNode(name, host, port);
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

    /// <summary>Leaves the cluster (shards hand over), then stops the host.</summary>
    public async Task StopGracefullyAsync()
    {
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
        await Host.StopAsync().ConfigureAwait(false);
    }

    /// <summary>Stops the node without leaving the cluster, as a crash would: the others must down it.</summary>
    public Task CrashAsync() => System.Terminate();

    public async ValueTask DisposeAsync()
    {
        if (!System.WhenTerminated.IsCompleted)
            await System.Terminate().WaitAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        try
        {
            await Host.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        Host.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public override string ToString() => $"{Name} ({Address})";
}

/// <summary>
/// Starts three <see cref="ClusterNode"/>s as one cluster and waits until the engine is usable on every node. Node 2
/// is started first and is the seed, so it is the oldest member: it hosts the expiry singleton and the shard
/// coordinator.
/// </summary>
internal static class ThreeNodeCluster
{
    public static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);

    /// <param name="started">Told of each node as soon as it runs, so the caller can dispose it even if start-up fails later.</param>
    /// <param name="step">Progress for the output.</param>
    /// <param name="startNode">Starts one node (name, port, seed port).</param>
    public static async Task<(ClusterNode Node1, ClusterNode Node2, ClusterNode Node3)> StartAsync(
        Func<string, int, int, Task<ClusterNode>> startNode, Action<ClusterNode> started, Action<string> step,
        TimeSpan? converge = null)
    {
        var until = DateTime.UtcNow + (converge ?? Converge);
        async Task WaitAsync(string what, Func<Task<bool>> done)
        {
            while (!await done().ConfigureAwait(false))
            {
                if (DateTime.UtcNow > until) throw new TimeoutException($"the cluster did not converge: {what}");
                await Task.Delay(50).ConfigureAwait(false);
            }
        }

        step("starting a cluster");
        var seedPort = ClusterNode.FreePort();
        async Task<ClusterNode> StartNodeAsync(string name, int port)
        {
            var node = await startNode(name, port, seedPort).ConfigureAwait(false);
            started(node);
            return node;
        }

        var node2 = await StartNodeAsync("node2", seedPort).ConfigureAwait(false);
        await WaitAsync("node2 Up", () => Task.FromResult(node2.Cluster.SelfMember.Status == MemberStatus.Up)).ConfigureAwait(false);
        var others = await Task.WhenAll(StartNodeAsync("node1", ClusterNode.FreePort()), StartNodeAsync("node3", ClusterNode.FreePort()))
            .ConfigureAwait(false);
        var (node1, node3) = (others[0], others[1]);
        var all = new[] { node1, node2, node3 };
        await WaitAsync("three members Up on every node", () => Task.FromResult(all.All(n =>
            n.Cluster.State.Members.Count(m => m.Status == MemberStatus.Up) == 3 && n.Cluster.State.Unreachable.Count == 0)))
            .ConfigureAwait(false);
        step("three members up");

        // Ban notices reach a node only once every mediator has learnt of its subscription (gossiped): wait until a
        // probe published on each node arrives on every node. A BanEnded of an unknown user changes nothing.
        var heard = all.ToDictionary(n => n, _ => new ConcurrentDictionary<string, bool>());
        foreach (var node in all)
        {
            var received = heard[node];
            var listener = node.System.ActorOf(Props.Create(() => new ProbeListener(received)));
            node.System.EventStream.Subscribe(listener, typeof(BanEnded));
        }
        var attempt = 0;
        await WaitAsync("ban notices reach every node", async () =>
        {
            attempt++;
            foreach (var node in all)
            {
                DistributedPubSub.Get(node.System).Mediator.Tell(new Publish(ClusterTopology.NoticeTopic,
                    new BanEnded(new UserKey("probe", $"{node.Name}/{attempt}"), DateTimeOffset.UnixEpoch, UnbanCause.Manual, 0)));
            }
            await Task.Delay(50).ConfigureAwait(false);
            return all.All(r => all.All(s => heard[r].Keys.Any(k => k.StartsWith(s.Name + "/", StringComparison.Ordinal))));
        }).ConfigureAwait(false);
        step("ban notices reach every node");
        foreach (var node in all)
            await WaitAsync($"index ready through {node.Name}", () => node.IsIndexReadyAsync(TimeSpan.FromSeconds(3))).ConfigureAwait(false);
        step("cluster of three ready");
        return (node1, node2, node3);
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
