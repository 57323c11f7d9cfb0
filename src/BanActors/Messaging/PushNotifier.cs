using System.Collections.Concurrent;
using BanActors.Bans;
using Microsoft.Extensions.Logging;

namespace BanActors;

/// <summary>
/// Sends a push notification (APNs, FCM, ...) for a message kept for an offline recipient. Never called for
/// a banned recipient. Register your own implementation before <c>AddOfflineMessaging</c> to replace the default.
/// </summary>
public interface IPushNotifier
{
    /// <summary>Sends the push for <paramref name="message"/>; a failure is logged and does not lose the kept message.</summary>
    Task NotifyAsync(UserMessage message, CancellationToken cancellationToken = default);
}

/// <summary>
/// The default <see cref="IPushNotifier"/>: sends nothing, logs each push and counts them per user. The per-user
/// counts are a diagnostic for a bounded number of users: past 100,000 distinct users they start again from zero,
/// so a long-running server does not grow with every user it ever pushed to (the soak found the dictionary
/// growing with each new recipient).
/// </summary>
public sealed class RecordingPushNotifier(ILogger<RecordingPushNotifier> log) : IPushNotifier
{
    private const int MaxTrackedUsers = 100_000;
    private readonly ConcurrentDictionary<UserKey, int> _byUser = new();
    private int _total;

    /// <summary>Pushes recorded since start.</summary>
    public int Total => Volatile.Read(ref _total);

    /// <summary>Pushes recorded for one user since start (or since the counts last started again, see the class).</summary>
    public int CountFor(UserKey user) => _byUser.TryGetValue(user, out var count) ? count : 0;

    /// <inheritdoc />
    public Task NotifyAsync(UserMessage message, CancellationToken cancellationToken = default)
    {
        if (_byUser.Count >= MaxTrackedUsers && !_byUser.ContainsKey(message.To)) _byUser.Clear();
        _byUser.AddOrUpdate(message.To, 1, (_, count) => count + 1);
        Interlocked.Increment(ref _total);
        log.LogInformation("Push for {User}: message {MsgUid} from {From} ({ObjectName}) {PushContent}",
            message.To, message.MsgUid, message.FromUserId, message.ObjectName, message.PushContent);
        return Task.CompletedTask;
    }
}
