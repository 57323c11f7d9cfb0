namespace BanActors;

/// <summary>
/// A live client connection, implemented by the IM backend. The registry calls <see cref="Kick"/> when the
/// user is banned; the implementation must close the connection promptly and must not block.
/// </summary>
public interface IBanSession
{
    /// <summary>Unique per session (per device connection), stable for its lifetime.</summary>
    string SessionId { get; }

    /// <summary>Close the connection with a RongCloud connection code, e.g. 31009 USER_BLOCKED.</summary>
    void Kick(int code, string reason);

    /// <summary>
    /// Close the connection because its user is banned until <paramref name="until"/>, for <paramref name="banReason"/>
    /// when the moderator gave one; by default <see cref="Kick"/> with 31009 USER_BLOCKED. Must not block.
    /// </summary>
    void KickBanned(DateTimeOffset until, string? banReason) => Kick(ConnectionCodes.UserBlocked, ConnectionCodes.UserBlockedReason);

    /// <summary>
    /// Queues a message for the client without blocking (called from the registry actor). Returns false when the
    /// session cannot take it (closing, kicked, queue full); the message is then kept in the offline store. A
    /// session that accepted a message and then closes before writing it must keep it itself.
    /// </summary>
    bool TryDeliver(UserMessage message) => false;

    /// <summary>
    /// Messages were kept for this user while this session was being admitted: load them from the offline store.
    /// Must not block.
    /// </summary>
    void NotifyKeptMessages() { }
}

/// <summary>RongCloud connection status codes that the engine uses.</summary>
public static class ConnectionCodes
{
    /// <summary>RC_CONN_SERVER_UNAVAILABLE: the engine could not tell whether the user may connect.</summary>
    public const int ServerUnavailable = 31003;

    /// <summary>RC_CONN_TOKEN_INCORRECT.</summary>
    public const int TokenIncorrect = 31004;

    /// <summary>RC_CONN_USER_BLOCKED.</summary>
    public const int UserBlocked = 31009;

    /// <summary>The reason text sent with <see cref="UserBlocked"/>.</summary>
    public const string UserBlockedReason = "USER_BLOCKED";
}


/// <summary>The answer to <see cref="ISessionRegistry.RegisterSessionAsync"/>.</summary>
public abstract record SessionAdmission(UserKey User, string SessionId)
{
    /// <summary>True for <see cref="SessionAccepted"/>: the session may stay open.</summary>
    public bool IsAccepted => this is SessionAccepted;
}

/// <summary>The session is live and will be kicked if a ban starts.</summary>
public sealed record SessionAccepted(UserKey User, string SessionId) : SessionAdmission(User, SessionId);

/// <summary>
/// The session may not connect (banned: 31009, with the ban's end time and reason; engine unavailable: 31003).
/// </summary>
public sealed record SessionRefused(UserKey User, string SessionId, int Code, string Reason, DateTimeOffset? BanUntil = null,
    string? BanReason = null) : SessionAdmission(User, SessionId);

