namespace BanActors.Bans;

/// <summary>Ban the user for <paramref name="Minutes"/> minutes from now (a re-ban replaces the end time).</summary>
public sealed record BanUser(UserKey User, int Minutes) : IWithUserKey;

/// <summary>Lift the user's ban now; succeeds when the user is not banned.</summary>
public sealed record UnbanUser(UserKey User) : IWithUserKey;

/// <summary>Ask for the user's ban status; answered with <see cref="BanStatus"/>.</summary>
public sealed record GetBanStatus(UserKey User) : IWithUserKey;

/// <summary>Sent by the engine to a user whose ban is due to end; answered with <see cref="ExpiryHandled"/>.</summary>
public sealed record ExpireBan(UserKey User, DateTimeOffset Until) : IWithUserKey;

/// <summary>The ban is durable and in force until <paramref name="Until"/>.</summary>
public sealed record BanAccepted(UserKey User, DateTimeOffset Until);

/// <summary>The ban request was refused; nothing was persisted.</summary>
public sealed record BanRejected(UserKey User, string Reason);

/// <summary>The user is not banned (any more); durable when an unban had to be written.</summary>
public sealed record UnbanAccepted(UserKey User, bool WasBanned);

/// <summary>The change could not be made durable (journal unavailable or rejected the write).</summary>
public sealed record BanCommandFailed(UserKey User, string Reason);

/// <summary>The ban status at the moment the actor answered.</summary>
public sealed record BanStatus(UserKey User, bool IsBanned, DateTimeOffset? Until);

/// <summary>The expiry of the ban ending at <paramref name="Until"/> is recorded (or was not due/needed).</summary>
public sealed record ExpiryHandled(UserKey User, DateTimeOffset Until);

/// <summary>Published after <see cref="UserBanned"/> is persisted; sessions of the user must close.</summary>
public sealed record BanStarted(UserKey User, DateTimeOffset Until, long SequenceNr);

/// <summary>Published after <see cref="UserUnbanned"/> is persisted.</summary>
public sealed record BanEnded(UserKey User, DateTimeOffset At, UnbanCause Cause, long SequenceNr);
