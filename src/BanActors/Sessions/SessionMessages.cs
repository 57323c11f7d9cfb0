using BanActors.Bans;

namespace BanActors.Sessions;

/// <summary>Register a new session of <paramref name="User"/>; answered with <see cref="SessionAccepted"/> or <see cref="SessionRefused"/>.</summary>
internal sealed record RegisterSession(UserKey User, IBanSession Session);

/// <summary>The session closed; forget it. Not answered.</summary>
internal sealed record UnregisterSession(UserKey User, string SessionId);

/// <summary>Ask whether the user has a live session (on any node of a cluster); answered with <see cref="OnlineStatus"/>.</summary>
internal sealed record GetOnlineStatus(UserKey User);

/// <summary>Whether the user has a live session.</summary>
internal sealed record OnlineStatus(UserKey User, bool IsOnline, int Sessions);

/// <summary>
/// Offer a message to the live sessions of its recipient (on any node of a cluster); answered with
/// <see cref="MessageDelivered"/>.
/// </summary>
internal sealed record DeliverToUser(UserMessage Message);

/// <summary>How many live sessions took the message; 0 means it must be kept.</summary>
internal sealed record MessageDelivered(UserKey User, int Sessions);

/// <summary>
/// Messages were kept for the user; live sessions (admitted meanwhile, on any node of a cluster) should load them.
/// Not answered.
/// </summary>
internal sealed record KeptMessagesAvailable(UserKey User);

