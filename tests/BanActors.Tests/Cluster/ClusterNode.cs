using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using BanActors.Cluster;
using BanActors.Hosting;
using BanActors.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BanActors.Tests.Cluster;

/// <summary>One cluster node in the test process: a real generic host running <c>AddBanEngineCluster</c>.</summary>
internal sealed class ClusterNode : IAsyncDisposable
{
    public const string SystemName = "banactors-test";

    private ClusterNode(string name, IHost host, int port)
    {
        Name = name;
        Host = host;
        Port = port;
        System = host.Services.GetRequiredService<ActorSystem>();
        Engine = host.Services.GetRequiredService<IBanEngine>();
        Region = host.Services.GetRequiredService<ActorRegistry>().Get<BanRouterKey>();
    }

    public string Name { get; }

    public IHost Host { get; }

    public int Port { get; }

    public ActorSystem System { get; }

    public IBanEngine Engine { get; }

    /// <summary>This node's "bans" shard region.</summary>
    public IActorRef Region { get; }

    public Akka.Cluster.Cluster Cluster => Akka.Cluster.Cluster.Get(System);

    public Address Address => Cluster.SelfAddress;

    public static async Task<ClusterNode> StartAsync(string name, int port, int seedPort, string connectionString,
        TimeProvider clock, TimeSpan? idleTimeout = null)
    {
        var options = new BanEngineOptions
        {
            Storage = { Provider = StorageProvider.PostgreSql, ConnectionString = connectionString },
            Clock = clock,
            IdleTimeout = idleTimeout ?? TimeSpan.FromMinutes(2),
            AskTimeout = TimeSpan.FromSeconds(20),
        };
        var cluster = new BanClusterOptions
        {
            SystemName = SystemName,
            Hostname = "127.0.0.1",
            Port = port,
            SeedNodes = [$"127.0.0.1:{seedPort}"],
            // Three systems on two shared cores: heartbeats arrive late, a node must not be declared dead for it
            // (Akka's default pause is 3 s). A crashed node is then noticed after about this long.
            AcceptableHeartbeatPause = TimeSpan.FromSeconds(15),
            FailureDetectorThreshold = 15,
            // Singletons (the expiry index, the shard coordinator) wait this long after a downed node's removal
            // before starting elsewhere; production keeps the default 20 s.
            StableAfter = TimeSpan.FromSeconds(5),
        };
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            EnvironmentName = "Test",
        });
        builder.Services.AddBanEngineCluster(options, cluster, (akka, _) => akka.AddHocon("""
            akka.loglevel = WARNING
            akka.stdout-loglevel = WARNING
            # Tests decide how a node goes: Crash() terminates without leaving, StopGracefullyAsync() leaves first.
            akka.coordinated-shutdown.run-by-actor-system-terminate = off
            akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
            akka.persistence.query.journal.sql.refresh-interval = 200ms
            """, HoconAddMode.Prepend));
        var host = builder.Build();
        await host.StartAsync();
        return new ClusterNode(name, host, port);
    }

    /// <summary>Leaves the cluster (shards hand over), then stops the host.</summary>
    public async Task StopGracefullyAsync()
    {
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance);
        await Host.StopAsync();
    }

    /// <summary>Stops the node without leaving the cluster, as a crash would: the others must down it.</summary>
    public async Task CrashAsync()
    {
        await System.Terminate();
    }

    public async ValueTask DisposeAsync()
    {
        if (!System.WhenTerminated.IsCompleted) await System.Terminate();
        try
        {
            await Host.StopAsync(TimeSpan.FromSeconds(5));
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
