using Akka.Actor;
using BanActors.Hosting;

namespace BanActors.Bans;

/// <summary>Asks the node's <see cref="WriteGate"/> for a turn to write to the journal; answered with <see cref="WritePermitGranted"/>.</summary>
internal sealed class AcquireWritePermit
{
    public static readonly AcquireWritePermit Instance = new();
    private AcquireWritePermit() { }
}

/// <summary>The holder may write now and must send <see cref="ReleaseWritePermit"/> afterwards (or stop).</summary>
internal sealed class WritePermitGranted
{
    public static readonly WritePermitGranted Instance = new();
    private WritePermitGranted() { }
}

/// <summary>Gives the permit back.</summary>
internal sealed class ReleaseWritePermit
{
    public static readonly ReleaseWritePermit Instance = new();
    private ReleaseWritePermit() { }
}

/// <summary>Asks the gate how many writes hold a permit and how many wait for one; answered with <see cref="WriteGateState"/>.</summary>
internal sealed class GetWriteGateState
{
    public static readonly GetWriteGateState Instance = new();
    private GetWriteGateState() { }
}

/// <param name="Writing">User actors holding a permit: their write is in the journal, not yet confirmed or failed.</param>
/// <param name="Waiting">User actors waiting for a permit.</param>
internal sealed record WriteGateState(int Writing, int Waiting);

/// <summary>
/// Bounds how many user actors of this node write to the journal at the same time. A burst (10,000 bans in one
/// go, or 100,000 bans ending in the same second) otherwise queues inside the journal, where waiting counts
/// against its circuit breaker's call timeout: writes then fail, the breaker opens and fails every write, new
/// bans included. Here the wait is outside the journal, bounded only by the caller's own timeout. A holder that
/// stops (passivated, crashed) gives its permit back through DeathWatch, so permits never leak.
/// </summary>
internal sealed class WriteGate : ReceiveActor
{
    private readonly int _permits;
    private readonly HashSet<IActorRef> _holders = new();
    // Writers watched until they stop, not per write: a Watch and an Unwatch are two system messages to the writer
    // on every write, and a live user actor writes again (a re-ban, its expiry).
    private readonly HashSet<IActorRef> _watched = new();
    private readonly Queue<IActorRef> _waiting = new();
    private readonly HashSet<IActorRef> _waitingSet = new();
    private readonly WriteGateQueue _queue = new();

    public WriteGate(int permits)
    {
        _permits = Math.Max(1, permits);
        Receive<AcquireWritePermit>(_ => Acquire(Sender));
        Receive<ReleaseWritePermit>(_ => Release(Sender));
        Receive<GetWriteGateState>(_ => Sender.Tell(new WriteGateState(_holders.Count, _waitingSet.Count)));
        Receive<Terminated>(t =>
        {
            _watched.Remove(t.ActorRef);
            _waitingSet.Remove(t.ActorRef);
            Release(t.ActorRef);
            _queue.Set(_waitingSet.Count);
        });
    }

    protected override void PreStart() => BanMetrics.WriteGateSources.Add(_queue);

    protected override void PostStop() => BanMetrics.WriteGateSources.Remove(_queue);

    public static Props Props(int permits) => Akka.Actor.Props.Create(() => new WriteGate(permits));

    private void Acquire(IActorRef requester)
    {
        if (_holders.Contains(requester) || _waitingSet.Contains(requester)) return;
        if (_watched.Add(requester)) Context.Watch(requester);
        if (_holders.Count < _permits)
        {
            Grant(requester);
            return;
        }
        _waiting.Enqueue(requester);
        _waitingSet.Add(requester);
        _queue.Set(_waitingSet.Count);
    }

    private void Release(IActorRef holder)
    {
        if (!_holders.Remove(holder)) return;
        while (_holders.Count < _permits && _waiting.TryDequeue(out var next))
        {
            // Skips requesters that stopped while waiting.
            if (_waitingSet.Remove(next)) Grant(next);
        }
        _queue.Set(_waitingSet.Count);
    }

    private void Grant(IActorRef requester)
    {
        _holders.Add(requester);
        requester.Tell(WritePermitGranted.Instance);
    }
}
