using System.Globalization;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.Singleton;
using Akka.Configuration;
using BanActors.Bans;
using BanActors.Hosting;
using BanActors.Sessions;
using BanActors.Storage;

namespace BanActors.Cluster;

/// <summary>
/// Starts the engine as one node of an Akka.NET cluster: the "bans" shard region in place of the local router,
/// the expiry index as a cluster singleton (reached through a proxy), ban notifications over DistributedPubSub,
/// and online status, live delivery and kept-message notices fanned out to every node's sessions.
/// </summary>
public static class ClusterBanEngine
{
    /// <summary>The shard type name of the user ban actors.</summary>
    public const string ShardTypeName = "bans";

    /// <summary>Name of the singleton manager; the singleton itself is <c>/user/ban-index/index</c>.</summary>
    public const string IndexManagerName = "ban-index";

    public const string IndexSingletonName = "index";

    /// <summary>Name of each node's connection registry (a top-level actor, as in single-node mode).</summary>
    public const string RegistryName = "connections";

    /// <summary>Path of each node's connection registry; <see cref="ClusterSessions"/> reaches every node's sessions there.</summary>
    public const string RegistryPath = "/user/" + RegistryName;

    /// <summary>
    /// The engine's HOCON for cluster mode without the remoting address and seed nodes (which Akka.Remote.Hosting and
    /// Akka.Cluster.Hosting add from <see cref="BanClusterOptions"/>): storage, serializers, cluster defaults.
    /// </summary>
    public static Config Config(StorageOptions storage, BanClusterOptions cluster) =>
        SettingsConfig(cluster)
            .WithFallback(BanEngineConfig.For(storage))
            .WithFallback(BanEngineConfig.Embedded("cluster.conf"));

    /// <summary>
    /// Everything, remoting and seed nodes included, for a plain <see cref="ActorSystem"/> (no Akka.Hosting).
    /// </summary>
    public static Config FullConfig(StorageOptions storage, BanClusterOptions cluster)
    {
        var seeds = string.Join(", ", cluster.SeedAddresses().Select(Quote));
        var roles = string.Join(", ", cluster.Roles.Select(Quote));
        var remote = ConfigurationFactory.ParseString($"""
            akka.remote.dot-netty.tcp.hostname = {Quote(cluster.Hostname)}
            akka.remote.dot-netty.tcp.port = {cluster.Port}
            akka.cluster.seed-nodes = [{seeds}]
            akka.cluster.roles = [{roles}]
            """);
        if (!string.IsNullOrEmpty(cluster.PublicHostname))
            remote = ConfigurationFactory.ParseString($"akka.remote.dot-netty.tcp.public-hostname = {Quote(cluster.PublicHostname)}")
                .WithFallback(remote);
        return remote.WithFallback(Config(storage, cluster));
    }

    /// <summary>The values of <paramref name="cluster"/> that are plain HOCON: failure detector, split-brain timing.</summary>
    public static Config SettingsConfig(BanClusterOptions cluster) => ConfigurationFactory.ParseString($"""
        akka.cluster.failure-detector.acceptable-heartbeat-pause = {Millis(cluster.AcceptableHeartbeatPause)}
        akka.cluster.failure-detector.threshold = {cluster.FailureDetectorThreshold.ToString(CultureInfo.InvariantCulture)}
        akka.cluster.split-brain-resolver.stable-after = {Millis(cluster.StableAfter)}
        """);

    /// <summary>
    /// Starts this node's part of the engine in <paramref name="system"/>, which must run <see cref="Config"/> (or
    /// <see cref="FullConfig"/>). The returned actors are used exactly like those of the single-node engine.
    /// </summary>
    public static BanEngineActors Start(ActorSystem system, BanEngineOptions options, BanClusterOptions cluster)
    {
        system.ActorOf(ClusterBanEventRelay.Props(), "ban-events-relay");
        var events = system.ActorOf(ClusterBanEventPublisher.Props(), "ban-events");

        var settings = BanEngineActors.UserSettings(system, options, notice => events.Tell(notice), stop => new Passivate(stop));
        var sharding = ClusterSharding.Get(system);
        var shardingSettings = ClusterShardingSettings.Create(system).WithRememberEntities(false);
        var region = sharding.Start(
            ShardTypeName,
            entityId => UserBanActor.Props(UserMessageExtractor.UserFor(entityId), settings),
            shardingSettings,
            new UserMessageExtractor(cluster.NumberOfShards),
            sharding.DefaultShardAllocationStrategy(shardingSettings),
            UserBanActor.Stop.Instance);

        // Exactly one node wakes users at the end of their bans. When that node goes, the singleton starts on the
        // oldest survivor and rebuilds from the journal, so a ban outlives the node that held it.
        // The settings below read akka.cluster.singleton(-proxy); without these defaults every timing there is zero.
        system.Settings.InjectTopLevelFallback(ClusterSingleton.DefaultConfig());
        var indexProps = ActiveBanIndex.Props(region, options.Clock, BanEngineConfig.QueryPluginId,
            options.MaxExpiriesInFlight, followJournal: true);
        system.ActorOf(ClusterSingletonManager.Props(indexProps, PoisonPill.Instance,
            ClusterSingletonManagerSettings.Create(system).WithSingletonName(IndexSingletonName)), IndexManagerName);
        var index = system.ActorOf(ClusterSingletonProxy.Props($"/user/{IndexManagerName}",
            ClusterSingletonProxySettings.Create(system).WithSingletonName(IndexSingletonName).WithBufferSize(10_000)),
            "ban-index-proxy");

        var sessions = system.ActorOf(ClusterSessions.Props(RegistryPath, cluster.OnlineQueryTimeout), "cluster-sessions");
        var registry = system.ActorOf(ConnectionRegistry.Props(region, options.AskTimeout, sessions), RegistryName);
        return new BanEngineActors(region, index, registry);
    }

    private static string Millis(TimeSpan value) => $"{(long)value.TotalMilliseconds}ms";

    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
