using Akka;
using Akka.Actor;
using Akka.Persistence;

namespace BanActors.Storage;

/// <summary>
/// Takes the journal's write path once before a host serves requests: one single-row write and one batch of
/// <see cref="JournalWarmUp.BatchRows"/> rows (the plugin inserts one row and a batch by different code, each slow the first time:
/// about half a second for the first single row on 2 cores), then deletes them. The rows are opaque bytes under a persistence id of their
/// own, untagged, so no read side (the expiry index, the ledger, the event feed) ever sees them: no ban is written.
/// </summary>
internal static class JournalWarmUps
{
    /// <summary>Completes once the rows are written and deleted; fails (or times out) if the journal cannot write.</summary>
    public static Task RunAsync(ActorSystem system, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var warmUp = system.ActorOf(Props.Create(() => new JournalWarmUp()));
        return warmUp.Ask<Done>(JournalWarmUp.Run.Instance, timeout, cancellationToken);
    }
}

/// <inheritdoc cref="JournalWarmUps"/>
internal sealed class JournalWarmUp : UntypedPersistentActor
{
    /// <summary>Not of the form <c>ban-{app}-{user}</c>, so no user's journal is touched.</summary>
    internal const string Id = "warmup-journal";

    internal const int BatchRows = 31;

    private IActorRef? _requester;
    private int _persisted;

    public override string PersistenceId => Id;

    protected override void OnRecover(object message)
    {
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case Run:
                _requester = Sender;
                Persist(Row(), _ => PersistAll(Enumerable.Range(0, BatchRows).Select(_ => Row()), _ =>
                {
                    if (++_persisted == BatchRows) DeleteMessages(LastSequenceNr);
                }));
                break;
            case DeleteMessagesSuccess or DeleteMessagesFailure:
                _requester?.Tell(Done.Instance);
                Context.Stop(Self);
                break;
        }
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        _requester?.Tell(new Status.Failure(cause));
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        _requester?.Tell(new Status.Failure(cause));
        base.OnPersistRejected(cause, @event, sequenceNr);
    }

    // About a ban event's size; byte arrays have Akka's own serializer.
    private static byte[] Row() => new byte[64];

    internal sealed class Run
    {
        public static readonly Run Instance = new();
    }
}
