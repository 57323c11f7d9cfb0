using Akka.Actor;
using Akka.Event;
using BanActors.Bans;
using BanActors.Sessions;

namespace BanActors.Cluster;

/// <summary>
/// Answers <see cref="GetOnlineStatus"/> for the whole cluster: asks the connection registry of every reachable
/// member for its own sessions of the user and adds them up. Sessions live where the client connected, so this
/// is the only place that sees them all; nothing has to be cleaned up when a node dies with its sessions.
/// </summary>
public sealed class ClusterOnlineStatus : ReceiveActor
{
    private readonly string _registryPath;
    private readonly TimeSpan _timeout;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <param name="registryPath">The path of every node's registry, e.g. <c>/user/connections</c>.</param>
    /// <param name="timeout">How long to wait for one node; a node that does not answer counts as no sessions.</param>
    public ClusterOnlineStatus(string registryPath, TimeSpan timeout)
    {
        _registryPath = registryPath;
        _timeout = timeout;
        // Not ReceiveAsync: one slow node must not hold up other users' questions.
        Receive<GetOnlineStatus>(q => Gather(q.User).PipeTo(Sender));
    }

    public static Props Props(string registryPath, TimeSpan timeout) =>
        Akka.Actor.Props.Create(() => new ClusterOnlineStatus(registryPath, timeout));

    private Task<OnlineStatus> Gather(UserKey user)
    {
        var cluster = Akka.Cluster.Cluster.Get(Context.System);
        var state = cluster.State;
        var addresses = state.Members
            .Where(m => m.Status is Akka.Cluster.MemberStatus.Up or Akka.Cluster.MemberStatus.WeaklyUp
                or Akka.Cluster.MemberStatus.Leaving or Akka.Cluster.MemberStatus.Joining)
            .Where(m => !state.Unreachable.Contains(m))
            .Select(m => m.Address)
            .Append(cluster.SelfAddress)
            .Distinct()
            .ToList();
        var asks = addresses.Select(address => AskNode(Context.ActorSelection(address + _registryPath), address, user));
        return Task.WhenAll(asks).ContinueWith(t =>
        {
            var sessions = t.Result.Sum(a => a?.Sessions ?? 0);
            return new OnlineStatus(user, sessions > 0, sessions);
        }, TaskScheduler.Default);
    }

    private async Task<OnlineStatus?> AskNode(ActorSelection registry, Address address, UserKey user)
    {
        try
        {
            return await registry.Ask<OnlineStatus>(new GetNodeOnlineStatus(user), _timeout).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _log.Warning("Node {Address} did not say whether {User} is online: {Reason}", address, user, ex.Message);
            return null;
        }
    }
}
