using System.Globalization;
using System.Text;
using BanActors.Server.Apps;
using BanActors.Storage;

namespace BanActors.Server.Api;

/// <summary>
/// RongCloud's user endpoints: block, unblock, block list, online status and tokens. Every user id is
/// scoped by the app that signed the request; the HTTP layer keeps no ban state of its own.
/// </summary>
public static class UserEndpoints
{
    /// <summary>RongCloud's limit of user ids per block or unblock request.</summary>
    public const int MaxUsersPerRequest = 20;

    /// <summary>The largest page of the block list; page 0 (no paging) returns up to <see cref="BanRules.MaxPageSize"/>.</summary>
    public const int MaxPageSize = BanRules.MaxPageSize;

    public const int DefaultPageSize = 50;

    public const int DefaultHistorySize = 20;

    public const int DefaultLogSize = 50;

    private const int MaxCursorLength = 32;

    public const int MaxNameLength = 128;

    public const int MaxPortraitUriLength = 1024;

    /// <summary>The header that makes a block or unblock safe to retry.</summary>
    private const string IdempotencyKeyHeader = "Idempotency-Key";

    public static IEndpointRouteBuilder MapUserEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapRongCloud("/user/block.json", context => IdempotentAsync(context, BlockAsync));
        app.MapRongCloud("/user/unblock.json", context => IdempotentAsync(context, UnblockAsync));
        app.MapRongCloud("/user/block/query.json", QueryBlockedAsync);
        app.MapRongCloud("/user/block/history.json", HistoryAsync);
        app.MapRongCloud("/user/block/log.json", LogAsync);
        app.MapRongCloud("/user/checkOnline.json", CheckOnlineAsync);
        app.MapRongCloud("/user/getToken.json", GetTokenAsync);
        return app;
    }

    /// <summary>
    /// With an <c>Idempotency-Key</c> header, a repeat of a request that succeeded (same app, same key, same
    /// parameters, within 24 hours) gets the same answer and changes nothing; the same key with other parameters is
    /// refused with 1002. Without the header, the request runs as RongCloud's.
    /// </summary>
    /// <remarks>
    /// The key covers the whole request (its path and every form field), kept in the engine's
    /// <see cref="IdempotencyStore"/>. Each user's change also carries a key of its own, derived from the request's, so
    /// that a retry of a request that failed for some of its users (1000) does not move the end times of the others.
    /// </remarks>
    private static async Task<IResult> IdempotentAsync(RongCloudContext context, Func<RongCloudContext, RequestKey?, Task<IResult>> change)
    {
        var header = context.Http.Request.Headers[IdempotencyKeyHeader];
        if (header.Count == 0 || string.IsNullOrEmpty(header[0])) return await change(context, null);
        if (header.Count > 1)
            throw new RongCloudRequestException(ErrorCodes.BadParameter, $"{IdempotencyKeyHeader} must be given once");
        var key = new RequestKey(header[0]!, Fingerprint(context.Path, context.Form));
        if (key.Key.Length > BanRules.MaxIdempotencyKeyLength)
            throw new RongCloudRequestException(ErrorCodes.TooLong,
                $"{IdempotencyKeyHeader} is longer than {BanRules.MaxIdempotencyKeyLength} characters");

        // Every success is {"code":200}: there is no answer to keep but the fact.
        return await context.Http.RequestServices.GetRequiredService<IdempotencyStore>().OnceAsync(context.App.AppKey, key.Key,
            key.Fingerprint, () => change(context, key), _ => 0, _ => RongCloudResults.Ok(), IdempotencyKeyHeader, context.Aborted);
    }

    /// <summary>A digest of the path and every form field (values of a repeated field in any order).</summary>
    private static string Fingerprint(string path, IFormCollection form)
    {
        var text = new StringBuilder(path);
        foreach (var field in form.OrderBy(f => f.Key, StringComparer.Ordinal))
        foreach (var value in field.Value.Order(StringComparer.Ordinal))
            text.Append('\n').Append(field.Key).Append('=').Append(value);
        return IdempotencyStore.Digest(text.ToString());
    }

    /// <summary>The <c>Idempotency-Key</c> of a request and the fingerprint of its parameters.</summary>
    private sealed record RequestKey(string Key, string Fingerprint)
    {
        /// <summary><paramref name="details"/> with the engine's key for one user of the request.</summary>
        public BanDetails ForUser(BanDetails? details, string userId) =>
            (details ?? new BanDetails()) with { IdempotencyKey = "http:" + IdempotencyStore.Fingerprint(Key, Fingerprint, userId) };
    }

    private static async Task<IResult> BlockAsync(RongCloudContext context, RequestKey? key)
    {
        context.RequireBody();
        var userIds = context.RequiredUserIds(MaxUsersPerRequest);
        var minutes = context.RequiredInt("minute", BanRules.MinMinutes, BanRules.MaxMinutes);
        var details = Details(context);
        var engine = Engine(context);
        await ForEachUserAsync(context, userIds,
            user => engine.BanAsync(user, minutes, key?.ForUser(details, user.UserId) ?? details, context.Aborted));
        return RongCloudResults.Ok();
    }

    private static async Task<IResult> UnblockAsync(RongCloudContext context, RequestKey? key)
    {
        context.RequireBody();
        var userIds = context.RequiredUserIds(MaxUsersPerRequest);
        var details = Details(context);
        var engine = Engine(context);
        await ForEachUserAsync(context, userIds,
            user => engine.UnbanAsync(user, key?.ForUser(details, user.UserId) ?? details, context.Aborted));
        return RongCloudResults.Ok();
    }

    // The official SDKs send this one with no body at all: every parameter is optional.
    private static async Task<IResult> QueryBlockedAsync(RongCloudContext context)
    {
        var page = context.OptionalInt("page", 0, int.MaxValue) ?? 0;
        var size = context.OptionalInt("size", 1, MaxPageSize) ?? DefaultPageSize;
        var result = await Engine(context).ListActiveAsync(context.App.AppKey, page, size, context.Aborted);
        var format = context.Http.RequestServices.GetRequiredService<BlockEndTimeFormat>();
        return RongCloudResults.Ok(new
        {
            users = result.Bans.Select(b => new BlockedUser(b.UserId, format.Format(b.Until),
                b.Since is { } since ? format.Format(since) : null, b.Reason, b.Operator)),
            total = result.Total,
        });
    }

    /// <summary>The ledger's page of one user's history, newest first (an extension of RongCloud's API).</summary>
    private static async Task<IResult> HistoryAsync(RongCloudContext context)
    {
        context.RequireBody();
        var userId = context.RequiredUserId();
        var size = context.OptionalInt("size", 1, BanRules.MaxHistoryPageSize) ?? DefaultHistorySize;
        var cursor = context.OptionalString("cursor", MaxCursorLength);
        // A cursor the engine rejects is a BanRequestRejectedException, which the pipeline answers with 1002.
        var page = await Engine(context).GetHistoryAsync(new UserKey(context.App.AppKey, userId), size, cursor, context.Aborted);
        var format = context.Http.RequestServices.GetRequiredService<BlockEndTimeFormat>();
        return RongCloudResults.Ok(new
        {
            userId,
            history = page.Entries.Select(e => new HistoryEntry(ActionName(e.Action), format.Format(e.Time), e.Minutes,
                e.Until is { } until ? format.Format(until) : null, e.Reason, e.Operator)),
            nextCursor = page.NextCursor,
        });
    }

    /// <summary>The app-wide ledger, newest first, with optional filters (an extension of RongCloud's API).</summary>
    private static async Task<IResult> LogAsync(RongCloudContext context)
    {
        var format = context.Http.RequestServices.GetRequiredService<BlockEndTimeFormat>();
        var action = context.OptionalString("action", 16) switch
        {
            null => (BanAction?)null,
            "block" => BanAction.Block,
            "unblock" => BanAction.Unblock,
            "expire" => BanAction.Expire,
            _ => throw new RongCloudRequestException(ErrorCodes.BadParameter, "action must be block, unblock or expire"),
        };
        var query = new BanLogQuery(
            context.OptionalString("operator", BanRules.MaxOperatorLength),
            action,
            context.OptionalUserId(),
            Time(context, "from", format),
            Time(context, "to", format),
            context.OptionalInt("size", 1, BanRules.MaxLogPageSize) ?? DefaultLogSize,
            context.OptionalString("cursor", MaxCursorLength));
        var page = await Engine(context).GetLogAsync(context.App.AppKey, query, context.Aborted);
        return RongCloudResults.Ok(new
        {
            log = page.Entries.Select(e => new LogEntry(e.UserId, ActionName(e.Action), format.Format(e.Time), e.Minutes,
                e.Until is { } until ? format.Format(until) : null, e.Reason, e.Operator)),
            nextCursor = page.NextCursor,
        });
    }

    // A time as blockEndTime shows it (in the server's time zone), or milliseconds since the epoch.
    private static DateTimeOffset? Time(RongCloudContext context, string name, BlockEndTimeFormat format)
    {
        var text = context.OptionalString(name, 32);
        if (text is null) return null;
        if (text.All(char.IsAsciiDigit) && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            && ms <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
            return DateTimeOffset.FromUnixTimeMilliseconds(ms);
        if (DateTime.TryParseExact(text, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
            return new DateTimeOffset(local, format.Zone.GetUtcOffset(local));
        throw new RongCloudRequestException(ErrorCodes.BadParameter,
            $"{name} must be a time as yyyy-MM-dd HH:mm:ss or milliseconds since the epoch");
    }

    private static string ActionName(BanAction action) => action switch
    {
        BanAction.Block => "block",
        BanAction.Unblock => "unblock",
        _ => "expire",
    };

    private static BanDetails? Details(RongCloudContext context)
    {
        var reason = context.OptionalString("reason", BanRules.MaxReasonLength);
        var op = context.OptionalString("operator", BanRules.MaxOperatorLength);
        return reason is null && op is null ? null : new BanDetails(reason, op);
    }

    private static async Task<IResult> CheckOnlineAsync(RongCloudContext context)
    {
        context.RequireBody();
        var userId = context.RequiredUserId();
        var online = await context.Http.RequestServices.GetRequiredService<ISessionRegistry>().IsOnlineAsync(new UserKey(context.App.AppKey, userId), context.Aborted);
        return RongCloudResults.Ok(new { status = online ? "1" : "0" });
    }

    private static Task<IResult> GetTokenAsync(RongCloudContext context)
    {
        context.RequireBody();
        var userId = context.RequiredUserId();
        // Checked for length but not required and not kept: the token does not carry them.
        context.OptionalString("name", MaxNameLength);
        context.OptionalString("portraitUri", MaxPortraitUriLength);
        var token = context.Http.RequestServices.GetRequiredService<TokenService>().Issue(context.App, userId);
        return Task.FromResult(RongCloudResults.Ok(new { userId, token }));
    }

    private sealed record BlockedUser(string UserId, string BlockEndTime, string? BlockStartTime, string? Reason, string? Operator);

    private sealed record LogEntry(string UserId, string Action, string Time, int? Minute, string? BlockEndTime, string? Reason,
        string? Operator);

    private sealed record HistoryEntry(string Action, string Time, int? Minute, string? BlockEndTime, string? Reason, string? Operator);

    private static IBanEngine Engine(RongCloudContext context) =>
        context.Http.RequestServices.GetRequiredService<IBanEngine>();

    /// <summary>
    /// Runs the change for every distinct user at once. If the engine failed for any of them the whole request
    /// reports 1000, even when others succeeded: a client must never see 200 for a change that is not stored.
    /// </summary>
    private static async Task ForEachUserAsync(RongCloudContext context, IEnumerable<string> userIds,
        Func<UserKey, Task> change)
    {
        var tasks = userIds.Distinct(StringComparer.Ordinal)
            .Select(id => change(new UserKey(context.App.AppKey, id)))
            .ToArray();
        try
        {
            await Task.WhenAll(tasks);
        }
        catch when (tasks.Any(t => t.Exception?.InnerException is BanEngineUnavailableException))
        {
            throw tasks.Select(t => t.Exception?.InnerException).OfType<BanEngineUnavailableException>().First();
        }
    }
}

/// <summary>Formats <c>blockEndTime</c>: <c>yyyy-MM-dd HH:mm:ss</c> in the configured time zone (<c>BanActors:TimeZone</c>).</summary>
public sealed class BlockEndTimeFormat(TimeZoneInfo zone)
{
    public TimeZoneInfo Zone { get; } = zone;

    public string Format(DateTimeOffset at) =>
        TimeZoneInfo.ConvertTime(at, Zone).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
