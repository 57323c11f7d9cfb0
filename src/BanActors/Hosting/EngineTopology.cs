using Akka.Actor;
using BanActors.Bans;
using BanActors.Routing;

namespace BanActors.Hosting;

/// <summary>
/// The one seam between a single node and a cluster, chosen once at composition: how user actors are reached and
/// passivated, how ban notices reach every node's event stream, where the expiry index runs, and how a question
/// about sessions reaches every node's registry. The actors themselves never ask which topology they run in.
/// </summary>
internal interface IEngineTopology
{
    /// <summary>Starts the entry to the user ban actors (a router, or a shard region) and returns it.</summary>
    IActorRef StartUsers(ActorSystem system, Func<UserKey, Props> props);

    /// <summary>The message a user actor sends its parent to be passivated, wrapping the stop message.</summary>
    object Passivate(object stopMessage);

    /// <summary>Delivers a notice to the event stream of every node (this one synchronously where it can).</summary>
    Action<object> Publisher(ActorSystem system);

    /// <summary>
    /// Whether a durable change can reach the index without its notice (a node dies between persisting and
    /// publishing; DistributedPubSub is at most once). Then the index also tails the journal. On one node the notice
    /// is published synchronously in the same process as the write, so the tail would only read every event twice
    /// (measured: 10–20% of the in-process ban rate).
    /// </summary>
    bool NoticesMayBeLost { get; }

    /// <summary>Starts the expiry index (once per engine) and returns the ref to talk to it.</summary>
    IActorRef StartIndex(ActorSystem system, Props index);

    /// <summary>Starts an actor of which the engine runs exactly one (on one node: a plain actor; in a cluster: a singleton).</summary>
    IActorRef StartOnce(ActorSystem system, Props props, string name);

    /// <summary>Returns the ref that answers session questions for all nodes, given this node's registry.</summary>
    IActorRef StartSessions(ActorSystem system, IActorRef registry);
}

/// <summary>One node: a router with a child per user, the node's event stream, the index and registry as plain actors.</summary>
internal sealed class LocalTopology : IEngineTopology
{
    public static readonly LocalTopology Instance = new();

    public IActorRef StartUsers(ActorSystem system, Func<UserKey, Props> props) =>
        system.ActorOf(BanRouter.Props(props), "bans");

    public object Passivate(object stopMessage) => new PassivateUser(stopMessage);

    // Synchronous: the notice is in the index's and the registry's mailboxes before the command is answered.
    public Action<object> Publisher(ActorSystem system) => system.EventStream.Publish;

    public bool NoticesMayBeLost => false;

    public IActorRef StartIndex(ActorSystem system, Props index) => system.ActorOf(index, "ban-index");

    public IActorRef StartOnce(ActorSystem system, Props props, string name) => system.ActorOf(props, name);

    public IActorRef StartSessions(ActorSystem system, IActorRef registry) => registry;
}
