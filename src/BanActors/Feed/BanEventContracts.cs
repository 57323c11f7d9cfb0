using System.Globalization;

namespace BanActors;

/// <summary>
/// One change of the event feed: a ban, a manual unban or an expiry, as the ledger recorded it. Delivered at least
/// once: a receiver deduplicates by <see cref="Id"/>, which is the same on every delivery of the event.
/// </summary>
/// <param name="Id">Unique and stable: the event's position in the journal (also the offset to resume after).</param>
/// <param name="Type"><see cref="Blocked"/>, <see cref="Unblocked"/> or <see cref="BlockExpired"/>.</param>
/// <param name="Time">When the change was recorded; for an expiry at or just after <paramref name="BlockEndTime"/>.</param>
/// <param name="BlockEndTime">The ban's end time (a ban and an expiry).</param>
/// <param name="Minutes">The ban's length (a ban).</param>
public sealed record BanEvent(string Id, string Type, string AppKey, string UserId, DateTimeOffset Time,
    DateTimeOffset? BlockEndTime = null, int? Minutes = null, string? Reason = null, string? Operator = null)
{
    /// <summary>A ban, also a re-ban that replaced a running one.</summary>
    public const string Blocked = "user.blocked";

    /// <summary>A manual unban.</summary>
    public const string Unblocked = "user.unblocked";

    /// <summary>A ban that reached its end time and was lifted by the engine.</summary>
    public const string BlockExpired = "user.block_expired";

    /// <summary>The journal offset of <see cref="Id"/>.</summary>
    public long Offset => long.Parse(Id, NumberStyles.None, CultureInfo.InvariantCulture);
}

/// <summary>
/// A durable consumer of the event feed, registered in DI (<c>services.AddSingleton&lt;IBanEventHandler, MyHandler&gt;()</c>).
/// The engine keeps its offset under <see cref="Name"/>, delivers each event at least once, the events of one user
/// in order, and retries a failed event (one that threw) with exponential backoff for at least
/// <see cref="BanEngineOptions.EventRetryFor"/> before it goes to the dead letters (<see cref="IBanEventFeed"/>).
/// Other users' events go on while one user's event is retried. In a cluster one node at a time runs the handlers.
/// </summary>
public interface IBanEventHandler
{
    /// <summary>The name the engine keeps the offset and dead letters under: keep it stable across releases.</summary>
    string Name { get; }

    /// <summary>Only this app's events; null (the default) for every app's.</summary>
    string? AppKey => null;

    /// <summary>Handles one event; throw to have it retried. Must be idempotent: an event can come twice.</summary>
    Task HandleAsync(BanEvent banEvent, CancellationToken cancellationToken);
}

/// <summary>An event that a handler failed on for longer than it is retried.</summary>
/// <param name="Attempts">How many deliveries failed.</param>
/// <param name="Error">The last failure.</param>
/// <param name="DeadSince">When it stopped being retried.</param>
public sealed record BanDeadLetter(string Handler, BanEvent Event, int Attempts, string Error, DateTimeOffset DeadSince);

/// <summary>The engine's event feed, read by offset, and the dead letters of its handlers.</summary>
public interface IBanEventFeed
{
    /// <summary>
    /// The events of <paramref name="appKey"/> (null: every app) after <paramref name="after"/> (an event's
    /// <see cref="BanEvent.Id"/>; "0" is the start of the ledger; null: only events recorded from now on), then every
    /// new one as it is recorded, until cancelled. The caller keeps its own offset: the last id it handled.
    /// </summary>
    IAsyncEnumerable<BanEvent> ReadAsync(string? appKey, string? after = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// The id of the last event recorded so far ("0" when there is none): pass it to <see cref="ReadAsync"/> to read
    /// from this moment on without missing what is recorded in between.
    /// </summary>
    Task<string> GetPositionAsync(CancellationToken cancellationToken = default);

    /// <summary>The dead letters of handler <paramref name="handler"/>, oldest first, at most <paramref name="size"/>.</summary>
    Task<IReadOnlyList<BanDeadLetter>> GetDeadLettersAsync(string handler, int size = 100, CancellationToken cancellationToken = default);

    /// <summary>
    /// Hands dead letters back to their handler, which tries each once more (and, failing, keeps it dead): the ones in
    /// <paramref name="ids"/>, or all of the handler's when null. Returns how many were handed back.
    /// </summary>
    Task<int> ReplayDeadLettersAsync(string handler, IReadOnlyCollection<string>? ids = null, CancellationToken cancellationToken = default);
}
