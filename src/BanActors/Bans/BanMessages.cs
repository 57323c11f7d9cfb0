using System.Diagnostics;
using Akka.Actor;

namespace BanActors.Bans;

/// <summary>A message addressed to one user's ban actor, so a router or shard region can route it.</summary>
internal interface IWithUserKey
{
    UserKey User { get; }
}

/// <summary>Ban the user for <paramref name="Minutes"/> minutes from now (a re-ban replaces the end time).</summary>
/// <remarks><see cref="Trace"/> is the caller's span, kept in one process only (the cluster serializer leaves it out).</remarks>
internal sealed record BanUser(UserKey User, int Minutes, BanDetails? Details = null) : IWithUserKey
{
    public ActivityContext Trace { get; init; }
}

/// <summary>Lift the user's ban now; succeeds when the user is not banned.</summary>
internal sealed record UnbanUser(UserKey User, BanDetails? Details = null) : IWithUserKey
{
    /// <inheritdoc cref="BanUser.Trace"/>
    public ActivityContext Trace { get; init; }
}

/// <summary>Ask for the sequence number of the user's last event; answered with <see cref="LastSequenceNrIs"/>.</summary>
internal sealed record GetLastSequenceNr(UserKey User) : IWithUserKey;

/// <summary>The sequence number of the user's last event (0: never banned).</summary>
internal sealed record LastSequenceNrIs(UserKey User, long SequenceNr);

/// <summary>Ask for the user's ban status; answered with <see cref="BanStatus"/>.</summary>
internal sealed record GetBanStatus(UserKey User) : IWithUserKey;

/// <summary>
/// Sent by the expiry index to a user whose ban is due to end and whose wake-up it holds; answered with
/// <see cref="ExpiryHandled"/>.
/// </summary>
internal sealed record ExpireBan(UserKey User, DateTimeOffset Until) : IWithUserKey;

/// <summary>The ban request was refused; nothing was persisted.</summary>
internal sealed record BanRejected(UserKey User, string Reason);

/// <summary>The change could not be made durable (journal unavailable or rejected the write).</summary>
internal sealed record BanCommandFailed(UserKey User, string Reason);

/// <summary>The expiry of the ban ending at <paramref name="Until"/> is recorded (or was not due/needed).</summary>
internal sealed record ExpiryHandled(UserKey User, DateTimeOffset Until);

/// <summary>
/// Published after <see cref="UserBanned"/> is persisted: sessions of the user must close, and the expiry index learns
/// that <paramref name="Holder"/> (the user's live actor) holds the wake-up at <paramref name="Until"/>. The ledger's
/// fields ride along for the block list and the kicked frame.
/// </summary>
internal sealed record BanStarted(UserKey User, DateTimeOffset Until, long SequenceNr, IActorRef Holder, DateTimeOffset? At = null,
    string? Reason = null, string? Operator = null)
{
    /// <summary>The ban's span, for the kick's; kept in one process only (the cluster serializer leaves it out).</summary>
    public ActivityContext Trace { get; init; }
}

/// <summary>Published after <see cref="UserUnbanned"/> is persisted.</summary>
internal sealed record BanEnded(UserKey User, DateTimeOffset At, UnbanCause Cause, long SequenceNr);

/// <summary>
/// Published by a user actor that started with a running ban and armed its own timer: the expiry index drops its
/// wake-up for it and watches <paramref name="Holder"/>, taking the wake-up back if that actor stops first.
/// </summary>
internal sealed record ExpiryTaken(UserKey User, DateTimeOffset Until, IActorRef Holder);

/// <summary>Lists the running bans of one app, sorted by end time descending; answered with <see cref="ActiveBanPage"/>.</summary>
/// <param name="Page">1-based page; 0 means no paging (the first <see cref="BanRules.MaxPageSize"/>).</param>
/// <param name="Size">Bans per page, at most <see cref="BanRules.MaxPageSize"/>.</param>
internal sealed record ListActiveBans(string AppKey, int Page, int Size);

/// <summary>Answers <c>true</c> once the index has been rebuilt from the journal.</summary>
internal sealed class IsIndexReady
{
    public static readonly IsIndexReady Instance = new();
    private IsIndexReady() { }
}

/// <summary>Who holds the wake-up of each running ban; answered with <see cref="ExpiryHolders"/> (for specs).</summary>
internal sealed class GetExpiryHolders
{
    public static readonly GetExpiryHolders Instance = new();
    private GetExpiryHolders() { }
}

/// <param name="HeldByActors">Running bans whose live user actor holds its own timer.</param>
/// <param name="HeldByIndex">Running bans whose wake-up waits in the index.</param>
/// <param name="IndexTimerArmed">Whether the index's one timer (for the earliest wake-up it holds) is armed.</param>
internal sealed record ExpiryHolders(IReadOnlyCollection<UserKey> HeldByActors, IReadOnlyCollection<UserKey> HeldByIndex,
    bool IndexTimerArmed);

/// <summary>How the index was last loaded; answered with <see cref="IndexLoadReport"/> (for specs and the bench).</summary>
internal sealed class GetIndexLoadReport
{
    public static readonly GetIndexLoadReport Instance = new();
    private GetIndexLoadReport() { }
}

/// <param name="SnapshotOffset">The offset of the snapshot it started from; null: rebuilt from the whole journal.</param>
/// <param name="SnapshotBans">Running bans in that snapshot.</param>
/// <param name="EventsRead">Ban events read from the journal after the snapshot (or in all, without one).</param>
/// <param name="SnapshotsSaved">Snapshots this index has saved since it started.</param>
internal sealed record IndexLoadReport(long? SnapshotOffset, int SnapshotBans, long EventsRead, int SnapshotsSaved)
{
    /// <summary>Saves whose offset came from the journal's high-water mark, without reading the events again.</summary>
    public int SavesFromHighWater { get; init; }
}
