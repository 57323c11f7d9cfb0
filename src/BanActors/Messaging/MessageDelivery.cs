using BanActors.Hosting;
using BanActors.Messaging;
using Microsoft.Extensions.Logging;

namespace BanActors;

/// <summary>A private message to one or more users of one app, as accepted by the publish endpoint.</summary>
public sealed record PrivateMessage(
    string AppKey,
    string FromUserId,
    IReadOnlyList<string> ToUserIds,
    string ObjectName,
    string Content,
    string? PushContent = null,
    string? PushData = null);

/// <summary>What happened to a published message: copies written to live sessions, kept, and pushed.</summary>
public sealed record PublishResult(IReadOnlyList<UserMessage> Messages, int Delivered, int Kept, int Pushed);

/// <summary>
/// Routes messages: to the recipient's live sessions through the engine's connection registry, otherwise into
/// the durable offline store (plus a push, unless the recipient is banned); and hands kept messages to a
/// session that has just connected.
/// </summary>
/// <remarks>
/// A session admitted while a message was being kept cannot miss it: the message is committed before the
/// registry is told, and the registry either already knows the session (and tells it to load again) or admits it
/// later, when its first load sees the committed row.
/// </remarks>
public sealed class MessageDelivery
{
    private readonly IBanEngine _bans;
    private readonly ISessionRegistry _sessions;
    private readonly IOfflineMessageStore _store;
    private readonly IPushNotifier _push;
    private readonly TimeProvider _clock;
    private readonly ILogger<MessageDelivery> _log;
    private readonly KeptMessageCount _waiting;

    internal MessageDelivery(IBanEngine bans, ISessionRegistry sessions, IOfflineMessageStore store, IPushNotifier push,
        OfflineMessagingOptions options, TimeProvider clock, ILogger<MessageDelivery> log, KeptMessageCount? waiting = null)
    {
        _waiting = waiting ?? new KeptMessageCount();
        _bans = bans;
        _sessions = sessions;
        _store = store;
        _push = push;
        Options = options;
        _clock = clock;
        _log = log;
    }

    /// <summary>The settings this delivery runs with.</summary>
    public OfflineMessagingOptions Options { get; }

    /// <summary>
    /// Delivers or keeps one copy per distinct recipient, then pushes to offline recipients who are not banned.
    /// Returns once every kept copy is durable; throws if the store fails (the caller must not report success).
    /// </summary>
    public async Task<PublishResult> PublishAsync(PrivateMessage message, CancellationToken cancellationToken = default)
    {
        var sentTime = DateTimeOffset.FromUnixTimeMilliseconds(_clock.GetUtcNow().ToUnixTimeMilliseconds());
        var copies = message.ToUserIds.Distinct(StringComparer.Ordinal)
            .Select(to => new UserMessage(MessageIds.New(sentTime), new UserKey(message.AppKey, to), message.FromUserId,
                message.ObjectName, message.Content, message.PushContent, message.PushData, sentTime))
            .ToList();

        cancellationToken.ThrowIfCancellationRequested();
        // Once started, a publish runs to the end even if its caller goes away: stopping half-way could leave
        // copies neither written nor kept.
        var sessions = await Task.WhenAll(copies.Select(TryDeliverLiveAsync));
        var offline = copies.Where((_, i) => sessions[i] == 0).ToList();
        if (offline.Count == 0) return new PublishResult(copies, copies.Count, 0, 0);

        await _store.AddAsync(offline, CancellationToken.None);
        CountKept(offline);
        foreach (var copy in offline) _sessions.NotifyKeptMessages(copy.To);

        var pushed = 0;
        await Parallel.ForEachAsync(offline,
            new ParallelOptions { MaxDegreeOfParallelism = Options.MaxStatusChecksInFlight, CancellationToken = CancellationToken.None },
            async (copy, ct) =>
            {
                if (await TryPushAsync(copy, ct)) Interlocked.Increment(ref pushed);
            });
        return new PublishResult(copies, copies.Count - offline.Count, offline.Count, pushed);
    }

    /// <summary>
    /// Writes the messages kept for <paramref name="user"/> (within the retention) through <paramref name="write"/>,
    /// in send order, and removes each written one from the store. Stops at the first message
    /// <paramref name="write"/> declines (returns false); returns how many were written.
    /// </summary>
    public async Task<int> DeliverKeptAsync(UserKey user, Func<UserMessage, CancellationToken, ValueTask<bool>> write,
        CancellationToken cancellationToken = default)
    {
        var notBefore = _clock.GetUtcNow() - Options.Retention;
        var delivered = 0;
        KeptMessage? last = null;
        while (true)
        {
            var batch = await _store.LoadAsync(user, notBefore, last, Options.DeliveryBatchSize, cancellationToken);
            if (batch.Count == 0) return delivered;
            var written = new List<long>(batch.Count);
            try
            {
                foreach (var kept in batch)
                {
                    if (!await write(kept.Message, cancellationToken)) return delivered + written.Count;
                    written.Add(kept.Id);
                    last = kept;
                }
            }
            finally
            {
                // Even when the connection failed mid-batch: what reached the client must not be delivered again.
                if (written.Count > 0)
                {
                    await _store.DeleteAsync(written, CancellationToken.None);
                    BanMetrics.KeptMessagesDelivered.Add(written.Count, BanMetrics.AppTag(user.AppKey));
                    _waiting.Add(user.AppKey, -written.Count);
                }
                delivered += written.Count;
            }
            if (batch.Count < Options.DeliveryBatchSize) return delivered;
        }
    }

    /// <summary>Keeps messages that were queued for a session that closed before writing them.</summary>
    public async Task KeepUndeliveredAsync(IReadOnlyList<UserMessage> messages)
    {
        if (messages.Count == 0) return;
        await _store.AddAsync(messages, CancellationToken.None);
        CountKept(messages);
    }

    private void CountKept(IReadOnlyList<UserMessage> kept)
    {
        foreach (var app in kept.GroupBy(m => m.To.AppKey, StringComparer.Ordinal))
        {
            var count = app.Count();
            BanMetrics.KeptMessagesStored.Add(count, BanMetrics.AppTag(app.Key));
            _waiting.Add(app.Key, count);
        }
    }

    private async Task<int> TryDeliverLiveAsync(UserMessage copy)
    {
        try
        {
            return await _sessions.DeliverAsync(copy, CancellationToken.None);
        }
        catch (BanEngineUnavailableException ex)
        {
            // Unknown whether a session took it: keep it, so it is delivered (at worst twice) rather than lost.
            _log.LogWarning("Live delivery to {User} unconfirmed ({Reason}); keeping message {MsgUid}", copy.To, ex.Message, copy.MsgUid);
            return 0;
        }
    }

    private async Task<bool> TryPushAsync(UserMessage copy, CancellationToken cancellationToken)
    {
        try
        {
            var status = await _bans.GetStatusAsync(copy.To, cancellationToken);
            if (status.IsBanned) return false;
            await _push.NotifyAsync(copy, cancellationToken);
            return true;
        }
        catch (Exception ex)
        {
            // The message is kept either way; a missed push is not worth failing the publish for.
            _log.LogWarning(ex, "Push for {User} (message {MsgUid}) failed", copy.To, copy.MsgUid);
            return false;
        }
    }
}
