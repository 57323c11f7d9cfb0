using System.Globalization;
using Akka.Actor;
using BanActors.Bans;
using BanActors.Sessions;
using BanActors.Storage;

namespace BanActors.Hosting;

/// <summary>The typed facade over the engine's actors: validation happens here, once, before anything is sent.</summary>
internal sealed class BanEngine(BanEngineActors actors, TimeSpan askTimeout, ActorSystem system, LedgerStore ledger,
    IdempotencyStore idempotency) : IBanEngine, ISessionRegistry
{
    private const string KeyName = "idempotencyKey";

    public BanEngineActors Actors { get; } = actors;

    /// <summary>The kept answers of keyed changes; the server keys its whole requests in it too.</summary>
    public IdempotencyStore Idempotency { get; } = idempotency;

    /// <summary>The facade over <paramref name="actors"/>, its stores on the engine's storage and clock.</summary>
    public static BanEngine Create(BanEngineActors actors, BanEngineOptions options, ActorSystem system, TimeProvider clock) =>
        new(actors, options.AskTimeout, system, new LedgerStore(options.Storage), IdempotencyStore.For(options.Storage, clock, system));

    /// <summary>An app key of the warm-up's own: its users are only read.</summary>
    internal const string WarmUpAppKey = "banactors.warmup";

    /// <summary>As many as a burst of first requests a server meets after a restart.</summary>
    internal const int WarmUpUsers = 32;

    /// <summary>
    /// Takes every path of a first ban once, before the host serves requests: the expiry index has loaded the journal,
    /// <see cref="WarmUpUsers"/> user actors of an app of its own recover concurrently (router, batched recovery reads),
    /// and the journal writes and deletes rows of its own (<see cref="JournalWarmUp"/>). Writes no ban and no event a
    /// reader sees. Throws <see cref="BanEngineUnavailableException"/> when the engine cannot answer.
    /// </summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        await ListActiveAsync(WarmUpAppKey, 1, 1, cancellationToken);
        await Task.WhenAll(Enumerable.Range(0, WarmUpUsers)
            .Select(i => GetStatusAsync(new UserKey(WarmUpAppKey, $"warm-up-{i}"), cancellationToken)));
        try
        {
            await JournalWarmUps.RunAsync(system, askTimeout, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new BanEngineUnavailableException($"the journal could not be written: {ex.Message}", ex);
        }
    }

    public async Task<BanAccepted> BanAsync(UserKey user, int minutes, BanDetails? details = null,
        CancellationToken cancellationToken = default)
    {
        Validate(BanRules.ValidateBan(user, minutes) ?? BanRules.ValidateDetails(details));
        using var span = BanTracing.Source.StartActivity("ban");
        span?.SetTag("banactors.app", user.AppKey);
        span?.SetTag("banactors.minutes", minutes);
        var trace = BanTracing.ContextOf(span);
        async Task<BanAccepted> Ban() =>
            await AskAsync(Actors.Bans, new BanUser(user, minutes, LedgerFields(details)) { Trace = trace }, cancellationToken) switch
            {
                BanAccepted accepted => accepted,
                BanRejected rejected => throw new BanRequestRejectedException(rejected.Reason),
                BanCommandFailed failed => throw new BanEngineUnavailableException(failed.Reason),
                var other => throw Unexpected(other),
            };
        // Without a key there is nothing to fingerprint or look up (a SHA-256 and a closure per ban, 2% of a burst).
        if (details?.IdempotencyKey is not { } key) return await Ban();
        // A repeat rebuilds the first answer from its end time, so a retried ban does not move it.
        return await Idempotency.OnceAsync(user.AppKey, key,
            IdempotencyStore.Fingerprint("ban", user.UserId, minutes.ToString(CultureInfo.InvariantCulture), details.Reason,
                details.Operator),
            Ban,
            accepted => accepted.Until.UtcTicks,
            ticks => new BanAccepted(user, new DateTimeOffset(ticks, TimeSpan.Zero)),
            KeyName, cancellationToken);
    }

    public async Task<UnbanAccepted> UnbanAsync(UserKey user, BanDetails? details = null, CancellationToken cancellationToken = default)
    {
        Validate(BanRules.ValidateUser(user) ?? BanRules.ValidateDetails(details));
        using var span = BanTracing.Source.StartActivity("unban");
        span?.SetTag("banactors.app", user.AppKey);
        var trace = BanTracing.ContextOf(span);
        async Task<UnbanAccepted> Unban() =>
            await AskAsync(Actors.Bans, new UnbanUser(user, LedgerFields(details)) { Trace = trace }, cancellationToken) switch
            {
                UnbanAccepted accepted => accepted,
                BanRejected rejected => throw new BanRequestRejectedException(rejected.Reason),
                BanCommandFailed failed => throw new BanEngineUnavailableException(failed.Reason),
                var other => throw Unexpected(other),
            };
        if (details?.IdempotencyKey is not { } key) return await Unban();
        return await Idempotency.OnceAsync(user.AppKey, key,
            IdempotencyStore.Fingerprint("unban", user.UserId, null, details.Reason, details.Operator),
            Unban,
            accepted => accepted.WasBanned ? 1 : 0,
            wasBanned => new UnbanAccepted(user, wasBanned != 0),
            KeyName, cancellationToken);
    }

    public async Task<BanStatus> GetStatusAsync(UserKey user, CancellationToken cancellationToken = default)
    {
        Validate(BanRules.ValidateUser(user));
        return await AskAsync(Actors.Bans, new GetBanStatus(user), cancellationToken) as BanStatus
            ?? throw new BanEngineUnavailableException("unexpected answer to a status query");
    }

    public async Task<BanHistoryPage> GetHistoryAsync(UserKey user, int size = 20, string? cursor = null,
        CancellationToken cancellationToken = default)
    {
        Validate(BanRules.ValidateUser(user));
        if (size is < 1 or > BanRules.MaxHistoryPageSize)
            throw new BanRequestRejectedException($"size must be between 1 and {BanRules.MaxHistoryPageSize}");
        long before;
        if (cursor is null)
        {
            before = (await AskAsync(Actors.Bans, new GetLastSequenceNr(user), cancellationToken) as LastSequenceNrIs
                ?? throw new BanEngineUnavailableException("unexpected answer to a history query")).SequenceNr;
        }
        else if (!BanHistory.TryParseCursor(cursor, out before))
        {
            throw new BanRequestRejectedException("cursor is not valid");
        }
        try
        {
            return await BanHistory.ReadAsync(system, user, before, size, cancellationToken).WaitAsync(askTimeout, cancellationToken);
        }
        catch (TimeoutException ex)
        {
            throw new BanEngineUnavailableException($"the journal did not answer within {askTimeout.TotalSeconds:0.#} s", ex);
        }
    }

    public async Task<BanLogPage> GetLogAsync(string appKey, BanLogQuery query, CancellationToken cancellationToken = default)
    {
        if (!BanRules.IsValidAppKey(appKey)) throw new BanRequestRejectedException("appKey is not valid");
        if (query.Size is < 1 or > BanRules.MaxLogPageSize)
            throw new BanRequestRejectedException($"size must be between 1 and {BanRules.MaxLogPageSize}");
        if (query.UserId is { } userId) Validate(BanRules.ValidateUser(new UserKey(appKey, userId)));
        if (query.Operator is { Length: > BanRules.MaxOperatorLength })
            throw new BanRequestRejectedException($"operator is longer than {BanRules.MaxOperatorLength} characters");
        long? before = null;
        if (query.Cursor is { } cursor)
        {
            if (!BanHistory.TryParseCursor(cursor, out var parsed)) throw new BanRequestRejectedException("cursor is not valid");
            before = parsed;
        }
        try
        {
            return await ledger.QueryAsync(appKey, query, before, cancellationToken).WaitAsync(askTimeout, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or System.Data.Common.DbException)
        {
            throw new BanEngineUnavailableException($"the ledger could not be read: {ex.Message}", ex);
        }
    }

    public async Task<ActiveBanPage> ListActiveAsync(string appKey, int page, int size, CancellationToken cancellationToken = default)
    {
        if (!BanRules.IsValidAppKey(appKey)) throw new BanRequestRejectedException("appKey is not valid");
        return await AskAsync(Actors.Index, new ListActiveBans(appKey, page, size), cancellationToken) as ActiveBanPage
            ?? throw new BanEngineUnavailableException("unexpected answer to a list query");
    }

    public async Task<SessionAdmission> RegisterSessionAsync(UserKey user, IBanSession session, CancellationToken cancellationToken = default)
    {
        Validate(BanRules.ValidateUser(user));
        return await AskAsync(Actors.Registry, new RegisterSession(user, session), cancellationToken) as SessionAdmission
            ?? throw new BanEngineUnavailableException("unexpected answer to a session registration");
    }

    public void UnregisterSession(UserKey user, string sessionId) =>
        Actors.Registry.Tell(new UnregisterSession(user, sessionId));

    public async Task<bool> IsOnlineAsync(UserKey user, CancellationToken cancellationToken = default) =>
        (await AskAsync(Actors.Sessions, new GetOnlineStatus(user), cancellationToken) as OnlineStatus)?.IsOnline
        ?? throw new BanEngineUnavailableException("unexpected answer to an online query");

    public async Task<int> DeliverAsync(UserMessage message, CancellationToken cancellationToken = default) =>
        (await AskAsync(Actors.Sessions, new DeliverToUser(message), cancellationToken) as MessageDelivered)?.Sessions
        ?? throw new BanEngineUnavailableException("unexpected answer to a delivery");

    public void NotifyKeptMessages(UserKey user) => Actors.Sessions.Tell(new KeptMessagesAvailable(user));

    // The key stays with the facade: the actors, their messages and the journal carry only what the ledger records.
    private static BanDetails? LedgerFields(BanDetails? details) =>
        details is null || (details.Reason is null && details.Operator is null) ? null : details with { IdempotencyKey = null };

    private static void Validate(string? invalid)
    {
        if (invalid is not null) throw new BanRequestRejectedException(invalid);
    }

    private async Task<object> AskAsync(IActorRef target, object message, CancellationToken cancellationToken)
    {
        try
        {
            return await target.Ask<object>(message, askTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (AskTimeoutException ex)
        {
            throw new BanEngineUnavailableException($"no durable answer within {askTimeout.TotalSeconds:0.#} s", ex);
        }
    }

    private static BanEngineUnavailableException Unexpected(object answer) =>
        new($"unexpected answer {answer.GetType().Name}");
}
