using Microsoft.Extensions.Logging;

namespace BanActors.Bans;

/// <summary>
/// The audit log of bans, unbans and expiries, as structured events of the <c>BanActors.Bans</c> category with named
/// fields (<c>AppKey</c>, <c>UserId</c>, <c>Until</c>, <c>Cause</c>, <c>Operator</c>), so that a JSON console formatter
/// or an OpenTelemetry exporter gives lines that can be queried. Logged through Microsoft.Extensions.Logging directly:
/// Akka's adapter would flatten them into one message string. A reason is not logged (it may quote the user).
/// </summary>
internal static partial class BanAudit
{
    public const string Category = "BanActors.Bans";

    [LoggerMessage(EventId = 1, EventName = "Banned", Level = LogLevel.Information,
        Message = "Banned {AppKey}/{UserId} until {Until:o} by {Operator}")]
    public static partial void Banned(ILogger logger, string appKey, string userId, DateTimeOffset until, string @operator);

    [LoggerMessage(EventId = 2, EventName = "Unbanned", Level = LogLevel.Information,
        Message = "Unbanned {AppKey}/{UserId} ({Cause}) by {Operator}")]
    public static partial void Unbanned(ILogger logger, string appKey, string userId, string cause, string @operator);

    public static void Banned(ILogger logger, UserKey user, DateTimeOffset until, string? @operator) =>
        Banned(logger, user.AppKey, user.UserId, until, @operator ?? "-");

    public static void Unbanned(ILogger logger, UserKey user, UnbanCause cause, string? @operator) =>
        Unbanned(logger, user.AppKey, user.UserId, cause == UnbanCause.Expired ? "expired" : "manual",
            cause == UnbanCause.Expired ? "engine" : @operator ?? "-");
}
