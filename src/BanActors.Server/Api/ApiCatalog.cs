using BanActors.Server.Events;
using BanActors.Server.Gateway;

namespace BanActors.Server.Api;

/// <summary>One form parameter (or header) of an endpoint, with the limits the server enforces.</summary>
internal sealed record ApiParameter(string Name, string Description, bool Required = false, bool Repeated = false,
    int? MaxLength = null, int? Minimum = null, int? Maximum = null, bool Integer = false, int? MaxCount = null);

/// <summary>
/// One endpoint as <c>/openapi/v1.json</c> describes it: what it does, its parameters and limits, whether it is signed,
/// an example success body and the error codes it can answer.
/// </summary>
internal sealed record ApiOperation(string Method, string Path, string Summary, string Description, bool Signed,
    IReadOnlyList<ApiParameter> Form, IReadOnlyList<int> Codes, string SuccessExample, IReadOnlyList<ApiParameter>? Headers = null,
    string SuccessContentType = RongCloudResults.ContentType);

/// <summary>
/// The description of every endpoint the server maps (a spec checks it against the routing table, so an endpoint
/// without a description fails the build's tests). The limits are the constants the handlers validate with.
/// </summary>
internal static class ApiCatalog
{
    private static readonly int[] Signed = [ErrorCodes.BadParameter, ErrorCodes.Unauthorized, ErrorCodes.RateLimited];
    private static readonly int[] Changes = [.. Signed, ErrorCodes.NoBody, ErrorCodes.TooLong, ErrorCodes.Internal];

    private static ApiParameter UserId(string name = "userId", bool repeated = false, int? maxCount = null, bool required = true) =>
        new(name, $"A user id: 1 to {BanRules.MaxUserIdLength} bytes in UTF-8, compared exactly; no control characters, no " +
            "leading or trailing whitespace" + (repeated ? $"; repeat the parameter for several users (at most {maxCount})" : ""),
            required, repeated, MaxLength: BanRules.MaxUserIdLength, MaxCount: maxCount);

    private static readonly ApiParameter Reason = new("reason", "Why (the moderation ledger; ours)", MaxLength: BanRules.MaxReasonLength);
    private static readonly ApiParameter Operator = new("operator", "Who (the moderation ledger; ours)", MaxLength: BanRules.MaxOperatorLength);
    private static readonly ApiParameter Cursor = new("cursor", "The previous page's nextCursor", MaxLength: 32);

    private static readonly ApiParameter IdempotencyKey = new("Idempotency-Key",
        "A repeat with the same key within 24 hours gets the first answer and changes nothing (ours)",
        MaxLength: BanRules.MaxIdempotencyKeyLength);

    public static readonly IReadOnlyList<ApiOperation> Operations =
    [
        new("POST", "/user/block.json", "Ban users", "Bans each user for minute minutes (a re-ban replaces the end time). " +
            "Answers once the ban is durable; every live session of the user is closed.", true,
            [UserId(repeated: true, maxCount: UserEndpoints.MaxUsersPerRequest),
             new("minute", "The ban's length in minutes", true, Integer: true, Minimum: BanRules.MinMinutes, Maximum: BanRules.MaxMinutes),
             Reason, Operator], Changes, "{\"code\":200}", [IdempotencyKey]),
        new("POST", "/user/unblock.json", "Unban users", "Lifts each user's ban; unbanning a user who is not banned succeeds.", true,
            [UserId(repeated: true, maxCount: UserEndpoints.MaxUsersPerRequest), Reason, Operator], Changes, "{\"code\":200}", [IdempotencyKey]),
        new("POST", "/user/block/query.json", "List running bans", "The app's running bans, latest end time first; the body may be empty.", true,
            [new("page", "1-based page; 0 or none: the first 1000, unpaged", Integer: true, Minimum: 0),
             new("size", "Page size", Integer: true, Minimum: 1, Maximum: UserEndpoints.MaxPageSize)],
            [.. Signed, ErrorCodes.Internal],
            "{\"code\":200,\"users\":[{\"userId\":\"u1\",\"blockEndTime\":\"2026-11-26 10:28:20\",\"blockStartTime\":\"2026-11-26 10:18:20\",\"reason\":\"spam\",\"operator\":\"alice\"}],\"total\":1}"),
        new("POST", "/user/block/history.json", "A user's ban history", "Every ban, unban and expiry of the user, newest first (ours).", true,
            [UserId(), new("size", "Page size", Integer: true, Minimum: 1, Maximum: BanRules.MaxHistoryPageSize), Cursor],
            [.. Signed, ErrorCodes.NoBody, ErrorCodes.TooLong, ErrorCodes.Internal],
            "{\"code\":200,\"userId\":\"u1\",\"history\":[{\"action\":\"block\",\"time\":\"2026-12-02 10:00:00\",\"minute\":10,\"blockEndTime\":\"2026-12-02 10:10:00\",\"reason\":\"spam\",\"operator\":\"alice\"}]}"),
        new("POST", "/user/block/log.json", "The app-wide moderation ledger", "Every ban, unban and expiry of the app, newest first, filtered (ours).", true,
            [Operator with { Description = "Only this operator's changes" },
             new("action", "block, unblock or expire", MaxLength: 16), UserId(required: false),
             new("from", "From this time (yyyy-MM-dd HH:mm:ss in the server's TimeZone, or ms since the epoch)", MaxLength: 32),
             new("to", "Up to this time (same formats)", MaxLength: 32),
             new("size", "Page size", Integer: true, Minimum: 1, Maximum: BanRules.MaxLogPageSize), Cursor],
            [.. Signed, ErrorCodes.TooLong, ErrorCodes.Internal],
            "{\"code\":200,\"log\":[{\"userId\":\"u1\",\"action\":\"block\",\"time\":\"2026-12-02 10:00:00\",\"minute\":10}],\"nextCursor\":\"41\"}"),
        new("POST", "/user/checkOnline.json", "Is a user online", "1 when the user has a live session on any node, else 0.", true,
            [UserId()], [.. Signed, ErrorCodes.NoBody, ErrorCodes.TooLong, ErrorCodes.Internal], "{\"code\":200,\"status\":\"1\"}"),
        new("POST", "/user/getToken.json", "Issue an IM token", "A token for /im/connect.", true,
            [UserId(), new("name", "Accepted, not stored", MaxLength: UserEndpoints.MaxNameLength),
             new("portraitUri", "Accepted, not stored", MaxLength: UserEndpoints.MaxPortraitUriLength)],
            [.. Signed, ErrorCodes.NoBody, ErrorCodes.TooLong], "{\"code\":200,\"userId\":\"u1\",\"token\":\"...\"}"),
        new("GET", EventEndpoints.StreamPath, "The event stream", "Server-Sent Events of the app's user.blocked, user.unblocked and " +
            "user.block_expired; Last-Event-ID resumes right after that event (ours).", true, [],
            [.. Signed, ErrorCodes.Internal], "id: 42\ndata: {\"id\":\"42\",\"type\":\"user.blocked\",...}\n\n",
            [new(EventEndpoints.LastEventIdHeader, "Resume after this event", MaxLength: 32)], "text/event-stream"),
        new("POST", "/events/deadletters.json", "Webhook dead letters", "Events the app's webhook did not take within the retry period (ours).", true,
            [new("size", "At most this many", Integer: true, Minimum: 1, Maximum: BanRules.MaxLogPageSize)],
            [.. Signed, ErrorCodes.Internal], "{\"code\":200,\"deadLetters\":[]}"),
        new("POST", "/events/deadletters/replay.json", "Replay dead letters", "Sends dead letters again; no id: all of them (ours).", true,
            [new("id", "A dead letter's event id; repeat for several", Repeated: true, MaxLength: 32)],
            [.. Signed, ErrorCodes.Internal], "{\"code\":200,\"replayed\":1}"),
        new("POST", MessageEndpoints.PublishPath, "Send a private message", "Delivered to online recipients; kept (no delivery, no " +
            "push) for a banned one, and delivered when the ban ends.", true,
            [UserId("fromUserId"), UserId("toUserId", repeated: true, maxCount: MessageEndpoints.MaxRecipients),
             new("objectName", "The message type, e.g. RC:TxtMsg", true, MaxLength: MessageEndpoints.MaxObjectNameLength),
             new("content", "The message, a JSON string", true, MaxLength: MessageEndpoints.MaxContentLength),
             new("pushContent", "Push text", MaxLength: MessageEndpoints.MaxPushLength),
             new("pushData", "Push data", MaxLength: MessageEndpoints.MaxPushLength)], Changes, "{\"code\":200}"),
        new("GET", ImGatewayExtensions.ConnectPath, "IM session (WebSocket)", "Upgrade to a WebSocket with ?token= from getToken; a " +
            "banned user is refused, a live session is closed with a kicked frame. See docs/GATEWAY.md.", false,
            [new("token", "From /user/getToken.json (a query parameter)", true, MaxLength: 1024)], [], "(WebSocket)"),
        new("GET", "/", "The server's links", "Where the health, metrics, OpenAPI and console endpoints are.", false, [], [],
            "{\"code\":200,\"name\":\"BanActors\",\"links\":{\"health\":\"/healthz\",\"openapi\":\"/openapi/v1.json\",\"console\":\"/console\"}}"),
        new("GET", "/metrics", "Metrics (Prometheus)", "The engine's and ASP.NET Core's metrics in Prometheus' text format; only " +
            "from BanActors:Metrics:AllowedNetworks (loopback by default), else 403 with code 1006.", false, [],
            [ErrorCodes.Forbidden], "# TYPE banactors_bans_total counter\nbanactors_bans_total{app=\"demo\"} 1", SuccessContentType: "text/plain"),
        new("GET", "/healthz", "Health", "200 when the journal takes writes (and, in cluster mode, this node is Up), else 503.", false,
            [], [], "{\"status\":\"healthy\",\"journal\":{\"reachable\":true,\"detail\":\"sqlite: writable\"}}", SuccessContentType: "application/json"),
    ];

    /// <summary>Every return code the API answers, with its HTTP status and meaning.</summary>
    public static readonly IReadOnlyList<(int Code, string Meaning)> Codes =
    [
        (ErrorCodes.Ok, "success"),
        (ErrorCodes.Internal, "the change could not be stored (journal unavailable, no durable answer in time): retry"),
        (ErrorCodes.BadParameter, "a parameter is missing, malformed or out of range; also an unknown App-Key"),
        (ErrorCodes.NoBody, "no POST body where one is required"),
        (ErrorCodes.Unauthorized, "the signature check failed, or a signing header is missing"),
        (ErrorCodes.TooLong, "too long: a user id over 64 bytes, too many values, a body over the cap"),
        (ErrorCodes.Forbidden, "not allowed: the console's app rights, its antiforgery token, or /metrics from outside its networks"),
        (ErrorCodes.RateLimited, "rate limit per App-Key and endpoint; Retry-After: 1"),
        (ErrorCodes.NotFound, "no such endpoint"),
        (ErrorCodes.MethodNotAllowed, "the endpoint takes another method, named in Allow"),
    ];
}
