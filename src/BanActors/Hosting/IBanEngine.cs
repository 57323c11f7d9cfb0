using BanActors.Bans;
using BanActors.Messaging;
using BanActors.Sessions;

namespace BanActors.Hosting;

/// <summary>
/// The engine for code that is not an actor (HTTP handlers, gateways). Every call either returns a durable
/// answer or throws <see cref="BanEngineUnavailableException"/>; invalid requests throw
/// <see cref="BanRequestRejectedException"/> and change nothing.
/// </summary>
public interface IBanEngine
{
    /// <summary>Bans the user for <paramref name="minutes"/> (1–43,200); returns once the ban is persisted.</summary>
    Task<BanAccepted> BanAsync(UserKey user, int minutes, CancellationToken cancellationToken = default);

    /// <summary>Lifts the user's ban now; succeeds, persisting nothing, when the user is not banned.</summary>
    Task<UnbanAccepted> UnbanAsync(UserKey user, CancellationToken cancellationToken = default);

    Task<BanStatus> GetStatusAsync(UserKey user, CancellationToken cancellationToken = default);

    /// <summary>Running bans of one app, by end time descending. Page is 1-based; 0 = the first 1000. Pages hold at most 1000.</summary>
    Task<ActiveBanPage> ListActiveAsync(string appKey, int page, int size, CancellationToken cancellationToken = default);

    /// <summary>Admits a session unless the user is banned; an admitted session is kicked when a ban starts.</summary>
    Task<SessionAdmission> RegisterSessionAsync(UserKey user, IBanSession session, CancellationToken cancellationToken = default);

    void UnregisterSession(UserKey user, string sessionId);

    Task<bool> IsOnlineAsync(UserKey user, CancellationToken cancellationToken = default);

    /// <summary>
    /// Offers the message to the live sessions of its recipient (<see cref="IBanSession.TryDeliver"/>); returns how
    /// many took it. 0 means the caller must keep it.
    /// </summary>
    Task<int> DeliverAsync(UserMessage message, CancellationToken cancellationToken = default);

    /// <summary>Tells the user's live sessions that messages were kept for them (<see cref="IBanSession.NotifyKeptMessages"/>).</summary>
    void NotifyKeptMessages(UserKey user);
}
