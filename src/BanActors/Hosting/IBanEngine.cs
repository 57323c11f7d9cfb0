namespace BanActors;

/// <summary>
/// Bans, for code that is not an actor (HTTP handlers, moderation tools). Every call either returns a durable answer
/// or throws <see cref="BanEngineUnavailableException"/>; an invalid request throws
/// <see cref="BanRequestRejectedException"/> and changes nothing.
/// </summary>
public interface IBanEngine
{
    /// <summary>
    /// Bans the user for <paramref name="minutes"/> (<see cref="BanRules.MinMinutes"/> to <see cref="BanRules.MaxMinutes"/>;
    /// a re-ban replaces the end time); returns once the ban is persisted and the user's sessions are being closed.
    /// <paramref name="details"/> (why, by whom) goes into the ledger with the ban.
    /// </summary>
    Task<BanAccepted> BanAsync(UserKey user, int minutes, BanDetails? details = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lifts the user's ban now, recording <paramref name="details"/> in the ledger; succeeds, persisting nothing,
    /// when the user is not banned.
    /// </summary>
    Task<UnbanAccepted> UnbanAsync(UserKey user, BanDetails? details = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// The user's ban history from the ledger (the journal), newest first: bans, unbans and expiries.
    /// <paramref name="size"/> is 1 to <see cref="BanRules.MaxHistoryPageSize"/>; pass the previous page's
    /// <see cref="BanHistoryPage.NextCursor"/> as <paramref name="cursor"/> for the next page. A user never banned has
    /// an empty history.
    /// </summary>
    Task<BanHistoryPage> GetHistoryAsync(UserKey user, int size = 20, string? cursor = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// The app-wide ledger, newest first, filtered by <paramref name="query"/>. It is a read side fed from the journal,
    /// so a change shows in it shortly after it is acknowledged (the journal query's refresh interval).
    /// </summary>
    Task<BanLogPage> GetLogAsync(string appKey, BanLogQuery query, CancellationToken cancellationToken = default);

    /// <summary>Whether the user is banned now, and until when.</summary>
    Task<BanStatus> GetStatusAsync(UserKey user, CancellationToken cancellationToken = default);

    /// <summary>
    /// Running bans of one app, by end time descending. <paramref name="page"/> is 1-based; 0 returns the first
    /// <see cref="BanRules.MaxPageSize"/>. Pages hold at most <see cref="BanRules.MaxPageSize"/>.
    /// </summary>
    Task<ActiveBanPage> ListActiveAsync(string appKey, int page, int size, CancellationToken cancellationToken = default);
}

/// <summary>
/// The IM backend's live connections, as the engine sees them: a registered session is refused while its user is
/// banned and kicked the moment a ban starts. Also online status and live delivery (on every node of a cluster).
/// </summary>
public interface ISessionRegistry
{
    /// <summary>Admits a session unless the user is banned; an admitted session is kicked when a ban starts.</summary>
    Task<SessionAdmission> RegisterSessionAsync(UserKey user, IBanSession session, CancellationToken cancellationToken = default);

    /// <summary>The session closed; the engine forgets it.</summary>
    void UnregisterSession(UserKey user, string sessionId);

    /// <summary>Whether the user has a live session (on any node of a cluster).</summary>
    Task<bool> IsOnlineAsync(UserKey user, CancellationToken cancellationToken = default);

    /// <summary>
    /// Offers the message to the live sessions of its recipient (<see cref="IBanSession.TryDeliver"/>); returns how
    /// many took it. 0 means the caller must keep it.
    /// </summary>
    Task<int> DeliverAsync(UserMessage message, CancellationToken cancellationToken = default);

    /// <summary>Tells the user's live sessions that messages were kept for them (<see cref="IBanSession.NotifyKeptMessages"/>).</summary>
    void NotifyKeptMessages(UserKey user);
}
