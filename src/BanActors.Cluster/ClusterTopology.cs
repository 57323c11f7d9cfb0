using System.Globalization;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Cluster.Tools.Singleton;
using Akka.Configuration;
using BanActors.Bans;
using BanActors.Hosting;
using BanActors.Sessions;
using BanActors.Storage;

namespace BanActors.Cluster;

/// <summary>
/// The engine as one node of an Akka.NET cluster: the "bans" shard region in place of the local router, the expiry
/// index as a cluster singleton (reached through a proxy), ban notices over DistributedPubSub to every node's event
/// stream, and session questions fanned out to every node's registry.
/// </summary>
internal sealed class ClusterTopology(BanClusterOptions cluster) : IEngineTopology
{
    /// <summary>The shard type name of the user ban actors.</summary>
    public const string ShardTypeName = "bans";

    /// <summary>Name of the singleton manager; the singleton itself is <c>/user/ban-index/index</c>.</summary>
    public const string IndexManagerName = "ban-index";

    public const string IndexSingletonName = "index";

    /// <summary>The DistributedPubSub topic that carries ban notices between nodes.</summary>
    public const string NoticeTopic = "ban-events";

    /// <summary>
    /// The cluster's HOCON without remoting address and seed nodes (which Akka.Remote.Hosting and Akka.Cluster.Hosting
    /// add from <see cref="BanClusterOptions"/>): failure detector and split-brain timing over the cluster defaults.
    /// </summary>
    public static Config Config(BanClusterOptions cluster) =>
        ConfigurationFactory.ParseString($"""
            akka.cluster.failure-detector.acceptable-heartbeat-pause = {Millis(cluster.AcceptableHeartbeatPause)}
            akka.cluster.failure-detector.threshold = {cluster.FailureDetectorThreshold.ToString(CultureInfo.InvariantCulture)}
            akka.cluster.split-brain-resolver.stable-after = {Millis(cluster.StableAfter)}
            """)
            .WithFallback(BanEngineConfig.Embedded("cluster.conf"))
            // The singleton settings read akka.cluster.singleton(-proxy); without these defaults every timing there is zero.
            .WithFallback(ClusterSingleton.DefaultConfig());

    public IActorRef StartUsers(ActorSystem system, Func<UserKey, Props> props)
    {
        var sharding = ClusterSharding.Get(system);
        var settings = ClusterShardingSettings.Create(system).WithRememberEntities(false);
        return sharding.Start(ShardTypeName, entityId => props(UserKey.FromEntityId(entityId)), settings,
            new UserMessageExtractor(cluster.NumberOfShards), sharding.DefaultShardAllocationStrategy(settings),
            UserBanActor.Stop.Instance);
    }

    public object Passivate(object stopMessage) => new Passivate(stopMessage);

    public bool NoticesMayBeLost => true;

    public Action<object> Publisher(ActorSystem system)
    {
        var mediator = DistributedPubSub.Get(system).Mediator;
        system.ActorOf(Akka.Actor.Props.Create(() => new NoticeRelay(mediator)), "ban-events-relay");
        return notice => mediator.Tell(new Publish(NoticeTopic, notice));
    }

    // Exactly one node holds the wake-ups of bans whose actors are not alive. When that node goes, the singleton starts
    // on the oldest survivor and rebuilds from the journal, so a ban outlives the node that held it.
    // The proxy buffers what arrives while the singleton moves: every ban's notice and expiry question in a burst.
    public IActorRef StartIndex(ActorSystem system, Props index) =>
        Singleton(system, index, IndexManagerName, IndexSingletonName, bufferSize: 10_000);

    public IActorRef StartOnce(ActorSystem system, Props props, string name) =>
        Singleton(system, props, name, "singleton", bufferSize: 1000);

    /// <summary>A cluster singleton under the manager <paramref name="managerName"/>, and a proxy to it on this node.</summary>
    private static IActorRef Singleton(ActorSystem system, Props props, string managerName, string singletonName, int bufferSize)
    {
        system.ActorOf(ClusterSingletonManager.Props(props, PoisonPill.Instance,
            ClusterSingletonManagerSettings.Create(system).WithSingletonName(singletonName)), managerName);
        return system.ActorOf(ClusterSingletonProxy.Props($"/user/{managerName}",
            ClusterSingletonProxySettings.Create(system).WithSingletonName(singletonName).WithBufferSize(bufferSize)),
            managerName + "-proxy");
    }

    public IActorRef StartSessions(ActorSystem system, IActorRef registry) =>
        system.ActorOf(ClusterSessions.Props("/user/" + ConnectionRegistry.Name, cluster.OnlineQueryTimeout), "cluster-sessions");

    private static string Millis(TimeSpan value) => $"{(long)value.TotalMilliseconds}ms";

    /// <summary>
    /// One per node: receives the cluster's ban notices (this node's own included) and republishes them on the local
    /// event stream, where the registry and the expiry index listen as on a single node.
    /// </summary>
    private sealed class NoticeRelay : ReceiveActor
    {
        public NoticeRelay(IActorRef mediator)
        {
            mediator.Tell(new Subscribe(NoticeTopic, Self));
            Receive<SubscribeAck>(_ => { });
            ReceiveAny(notice => Context.System.EventStream.Publish(notice));
        }
    }
}
