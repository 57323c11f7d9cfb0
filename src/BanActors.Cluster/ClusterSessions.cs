using Akka.Actor;
using Akka.Event;
using BanActors.Bans;
using BanActors.Sessions;

namespace BanActors.Cluster;

/// <summary>
/// The cluster-wide view of sessions: takes the questions and deliveries that a node's connection registry cannot
/// answer alone (<see cref="GetOnlineStatus"/>, <see cref="DeliverToUser"/>, <see cref="KeptMessagesAvailable"/>)
/// and asks the same of the registry of every reachable member, adding up the answers. Sessions
/// live where the client connected, so this is the only place that sees them all; nothing has to be cleaned up
/// when a node dies with its sessions.
/// </summary>
internal sealed class ClusterSessions : ReceiveActor
{
    private readonly string _registryPath;
    private readonly TimeSpan _timeout;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <param name="registryPath">The path of every node's registry, e.g. <c>/user/connections</c>.</param>
    /// <param name="timeout">How long to wait for one node; a node that does not answer counts as no sessions.</param>
    public ClusterSessions(string registryPath, TimeSpan timeout)
    {
        _registryPath = registryPath;
        _timeout = timeout;
        // Not ReceiveAsync: one slow node must not hold up other users' questions and messages.
        Receive<GetOnlineStatus>(q => SumOverNodes<OnlineStatus>(q, q.User, a => a.Sessions)
            .ContinueWith(t => new OnlineStatus(q.User, t.Result > 0, t.Result), TaskScheduler.Default)
            .PipeTo(Sender));
        // A node that does not answer in time counts as 0 sessions, although its sessions may have taken the message.
        // If the sum is then 0, the message is also kept and delivered again on the next connect: a slow node can
        // make a message arrive twice (at least once), never make it lost.
        Receive<DeliverToUser>(d => SumOverNodes<MessageDelivered>(d, d.Message.To, a => a.Sessions)
            .ContinueWith(t => new MessageDelivered(d.Message.To, t.Result), TaskScheduler.Default)
            .PipeTo(Sender));
        Receive<KeptMessagesAvailable>(k =>
        {
            foreach (var address in ReachableMembers()) Context.ActorSelection(address + _registryPath).Tell(k);
        });
    }

    public static Props Props(string registryPath, TimeSpan timeout) =>
        Akka.Actor.Props.Create(() => new ClusterSessions(registryPath, timeout));

    /// <summary>This node and every member that is (or is becoming, or is still) up and not unreachable.</summary>
    private List<Address> ReachableMembers()
    {
        var cluster = Akka.Cluster.Cluster.Get(Context.System);
        var state = cluster.State;
        return state.Members
            .Where(m => m.Status is Akka.Cluster.MemberStatus.Up or Akka.Cluster.MemberStatus.WeaklyUp
                or Akka.Cluster.MemberStatus.Leaving or Akka.Cluster.MemberStatus.Joining)
            .Where(m => !state.Unreachable.Contains(m))
            .Select(m => m.Address)
            .Append(cluster.SelfAddress)
            .Distinct()
            .ToList();
    }

    /// <summary>Asks every reachable node's registry <paramref name="question"/> and adds up the answers; a node that does not answer adds 0.</summary>
    private Task<int> SumOverNodes<TAnswer>(object question, UserKey user, Func<TAnswer, int> sessions) where TAnswer : class
    {
        var asks = ReachableMembers()
            .Select(address => AskNode<TAnswer>(Context.ActorSelection(address + _registryPath), address, question, user));
        return Task.WhenAll(asks).ContinueWith(t => t.Result.Sum(a => a is null ? 0 : sessions(a)), TaskScheduler.Default);
    }

    private async Task<TAnswer?> AskNode<TAnswer>(ActorSelection registry, Address address, object question, UserKey user)
        where TAnswer : class
    {
        try
        {
            return await registry.Ask<TAnswer>(question, _timeout).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The question's type, not the question: a delivery would log the message content.
            _log.Warning("Node {Address} did not answer {Question} for {User}: {Reason}", address, question.GetType().Name, user,
                ex.Message);
            return null;
        }
    }
}
