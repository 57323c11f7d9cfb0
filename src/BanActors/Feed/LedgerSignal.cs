using Akka.Actor;

namespace BanActors.Feed;

/// <summary>
/// Wakes the feed's readers on this node the moment the ledger projection has written a batch, so that an event
/// leaves within milliseconds of being recorded instead of at the readers' next poll. Readers on other nodes of a
/// cluster (the projection runs on one) fall back to polling.
/// </summary>
internal sealed class LedgerSignal : IExtension
{
    private TaskCompletionSource _next = NewSource();

    /// <summary>Completes at the next <see cref="Pulse"/>; take it before reading, so that no pulse is missed.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    public void Pulse() => Interlocked.Exchange(ref _next, NewSource()).TrySetResult();

    public static LedgerSignal For(ActorSystem system) => system.WithExtension<LedgerSignal, LedgerSignalProvider>();

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

internal sealed class LedgerSignalProvider : ExtensionIdProvider<LedgerSignal>
{
    public override LedgerSignal CreateExtension(ExtendedActorSystem system) => new();
}
