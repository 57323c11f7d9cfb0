using Akka.Actor;
using BanActors.Bans;

namespace BanActors.Routing;

/// <summary>Asks the parent router to stop a child; messages for it are held until it has stopped.</summary>
internal sealed record PassivateUser(object StopMessage);

/// <summary>
/// The single-node entry to the user ban actors: one child per user, created on demand and passivated when
/// idle. A Cluster.Sharding ShardRegion takes its place in a cluster; callers only send <see cref="IWithUserKey"/> messages.
/// </summary>
internal sealed class BanRouter : ReceiveActor
{
    private readonly Func<UserKey, Props> _propsFor;
    private readonly Dictionary<UserKey, IActorRef> _children = new();
    private readonly Dictionary<IActorRef, UserKey> _users = new();
    // Messages that arrived for a user whose actor is stopping; replayed to its next incarnation.
    private readonly Dictionary<UserKey, List<(object Message, IActorRef Sender)>> _held = new();

    public BanRouter(Func<UserKey, Props> propsFor)
    {
        _propsFor = propsFor;
        Receive<IWithUserKey>(Route);
        Receive<PassivateUser>(OnPassivate);
        Receive<Terminated>(OnTerminated);
        Receive<GetChildCount>(_ => Sender.Tell(_children.Count));
    }

    public static Props Props(Func<UserKey, Props> propsFor) => Akka.Actor.Props.Create(() => new BanRouter(propsFor));

    /// <summary>Answers with the number of live user actors (an int); for tests and metrics.</summary>
    public sealed class GetChildCount
    {
        public static readonly GetChildCount Instance = new();
        private GetChildCount() { }
    }

    private void Route(IWithUserKey message)
    {
        if (_held.TryGetValue(message.User, out var held))
        {
            held.Add((message, Sender));
            return;
        }
        ChildFor(message.User).Forward(message);
    }

    private IActorRef ChildFor(UserKey user)
    {
        if (_children.TryGetValue(user, out var child)) return child;
        child = Context.ActorOf(_propsFor(user), user.EntityId);
        Context.Watch(child);
        _children[user] = child;
        _users[child] = user;
        return child;
    }

    private void OnPassivate(PassivateUser passivate)
    {
        if (!_users.TryGetValue(Sender, out var user) || _held.ContainsKey(user)) return;
        _held[user] = new List<(object, IActorRef)>();
        Sender.Tell(passivate.StopMessage);
    }

    private void OnTerminated(Terminated terminated)
    {
        if (!_users.Remove(terminated.ActorRef, out var user)) return;
        _children.Remove(user);
        if (!_held.Remove(user, out var held) || held.Count == 0) return;
        var child = ChildFor(user);
        foreach (var (message, sender) in held) child.Tell(message, sender);
    }
}
