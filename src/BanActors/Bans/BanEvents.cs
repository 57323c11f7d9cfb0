namespace BanActors.Bans;

/// <summary>Journal event: the user is banned from <paramref name="At"/> until <paramref name="Until"/>.</summary>
internal sealed record UserBanned(UserKey User, DateTimeOffset At, DateTimeOffset Until);

/// <summary>Journal event: the ban ended at <paramref name="At"/>.</summary>
internal sealed record UserUnbanned(UserKey User, DateTimeOffset At, UnbanCause Cause);

/// <summary>Snapshot of one user's ban state; <paramref name="Until"/> is null when not banned.</summary>
internal sealed record BanSnapshot(UserKey User, DateTimeOffset? Until);

/// <summary>The tags that the read side uses to find ban events.</summary>
internal static class BanTags
{
    public const string Ban = "ban";
    internal static readonly IReadOnlySet<string> All = new HashSet<string> { Ban };
}
