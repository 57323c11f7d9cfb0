namespace BanActors.Bans;

/// <summary>
/// Journal event: the user is banned from <paramref name="At"/> until <paramref name="Until"/>, with the ledger's
/// fields where they were given (events written before the ledger have none).
/// </summary>
internal sealed record UserBanned(UserKey User, DateTimeOffset At, DateTimeOffset Until, string? Reason = null,
    string? Operator = null);

/// <summary>Journal event: the ban ended at <paramref name="At"/>; a manual unban may say why and by whom.</summary>
internal sealed record UserUnbanned(UserKey User, DateTimeOffset At, UnbanCause Cause, string? Reason = null,
    string? Operator = null);

/// <summary>Snapshot of one user's ban state: the running ban, or null when not banned.</summary>
internal sealed record BanSnapshot(UserKey User, UserBanned? Ban);

/// <summary>The tags that the read side uses to find ban events.</summary>
internal static class BanTags
{
    public const string Ban = "ban";
    internal static readonly IReadOnlySet<string> All = new HashSet<string> { Ban };
}
