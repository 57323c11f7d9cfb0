namespace BanActors;

/// <summary>Why a ban ended.</summary>
public enum UnbanCause : byte
{
    /// <summary>The ban reached its end time.</summary>
    Expired = 1,

    /// <summary>An unban request lifted it before its end time.</summary>
    Manual = 2,
}

/// <summary>The ban is durable and in force until <paramref name="Until"/>.</summary>
public sealed record BanAccepted(UserKey User, DateTimeOffset Until);

/// <summary>The user is not banned (any more); durable when an unban had to be written.</summary>
public sealed record UnbanAccepted(UserKey User, bool WasBanned);

/// <summary>The ban status at the moment the engine answered.</summary>
public sealed record BanStatus(UserKey User, bool IsBanned, DateTimeOffset? Until);

/// <summary>One running ban.</summary>
public sealed record ActiveBan(string UserId, DateTimeOffset Until);

/// <summary>A page of running bans, by end time descending.</summary>
public sealed record ActiveBanPage(IReadOnlyList<ActiveBan> Bans)
{
    public override string ToString() =>
        $"ActiveBanPage {{ Count = {Bans.Count}{(Bans.Count > 0 ? ", Bans = [" + string.Join(", ", Bans.Take(5)) + (Bans.Count > 5 ? ", …" : "") + "]" : "")} }}";
}
