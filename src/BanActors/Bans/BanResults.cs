using System.Text;

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

/// <summary>The ban status at the moment the engine answered; <paramref name="Reason"/> is the running ban's, if given.</summary>
public sealed record BanStatus(UserKey User, bool IsBanned, DateTimeOffset? Until, string? Reason = null);

/// <summary>The moderation ledger's fields of a ban or unban (why, and by whom), and its idempotency key. All are optional.</summary>
/// <param name="Reason">Why (at most <see cref="BanRules.MaxReasonLength"/> characters).</param>
/// <param name="Operator">Who: the moderator or tool (at most <see cref="BanRules.MaxOperatorLength"/> characters).</param>
/// <param name="IdempotencyKey">
/// Makes the call safe to retry (1 to <see cref="BanRules.MaxIdempotencyKeyLength"/> characters, per app): a repeat with
/// the same key and parameters within 24 hours, across restarts, gets the first answer and changes nothing; the same
/// key with other parameters is rejected. Not recorded in the ledger.
/// </param>
public sealed record BanDetails(string? Reason = null, string? Operator = null, string? IdempotencyKey = null);

/// <summary>One running ban, with when it started and the ledger's fields where they were given.</summary>
public sealed record ActiveBan(string UserId, DateTimeOffset Until, DateTimeOffset? Since = null, string? Reason = null,
    string? Operator = null);

/// <summary>A page of running bans, by end time descending; <paramref name="Total"/> counts every running ban of the app.</summary>
public sealed record ActiveBanPage(IReadOnlyList<ActiveBan> Bans, int Total = 0)
{
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Total = ").Append(Total).Append(", Bans = ");
        Printing.Items(builder, Bans);
        return true;
    }
}

/// <summary>What a ledger entry records.</summary>
public enum BanAction
{
    /// <summary>A ban (a re-ban too).</summary>
    Block,

    /// <summary>A manual unban.</summary>
    Unblock,

    /// <summary>A ban that reached its end time.</summary>
    Expire,
}

/// <summary>One entry of a user's ban history, from the journal.</summary>
/// <param name="Time">When the change took effect (for an expiry, the end time).</param>
/// <param name="Minutes">A ban's length; null for an unban or an expiry.</param>
/// <param name="Until">A ban's end time; null for an unban or an expiry.</param>
public sealed record BanHistoryEntry(BanAction Action, DateTimeOffset Time, int? Minutes = null, DateTimeOffset? Until = null,
    string? Reason = null, string? Operator = null);

/// <summary>A page of a user's ban history, newest first; <paramref name="NextCursor"/> is null on the last page.</summary>
public sealed record BanHistoryPage(UserKey User, IReadOnlyList<BanHistoryEntry> Entries, string? NextCursor)
{
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("User = ").Append(User).Append(", Entries = ");
        Printing.Items(builder, Entries);
        builder.Append(", NextCursor = ").Append(NextCursor);
        return true;
    }
}
