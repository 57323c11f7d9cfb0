using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using BanActors.Bans;

namespace BanActors.Cluster;

/// <summary>
/// Cluster variant of the node's ban-event hub: user actors on this node send it <see cref="BanStarted"/> /
/// <see cref="BanEnded"/> after persisting, and it publishes them to every node through DistributedPubSub.
/// </summary>
public sealed class ClusterBanEventPublisher : ReceiveActor
{
    /// <summary>The DistributedPubSub topic that carries ban notifications between nodes.</summary>
    public const string Topic = "ban-events";

    public ClusterBanEventPublisher()
    {
        var mediator = DistributedPubSub.Get(Context.System).Mediator;
        Receive<BanStarted>(e => mediator.Tell(new Publish(Topic, e)));
        Receive<BanEnded>(e => mediator.Tell(new Publish(Topic, e)));
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new ClusterBanEventPublisher());
}

/// <summary>
/// One per node: receives the cluster's ban notifications (this node's own included) and republishes them on
/// the local event stream, where the connection registry and the expiry index listen as in single-node mode.
/// </summary>
public sealed class ClusterBanEventRelay : ReceiveActor
{
    public ClusterBanEventRelay()
    {
        Receive<BanStarted>(e => Context.System.EventStream.Publish(e));
        Receive<BanEnded>(e => Context.System.EventStream.Publish(e));
        Receive<SubscribeAck>(_ => { });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new ClusterBanEventRelay());

    protected override void PreStart() =>
        DistributedPubSub.Get(Context.System).Mediator.Tell(new Subscribe(ClusterBanEventPublisher.Topic, Self));
}
