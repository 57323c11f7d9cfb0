using System.Text;

namespace BanActors;

/// <summary>A query of the app-wide ledger, newest first; every filter is optional.</summary>
/// <param name="Size">1 to <see cref="BanRules.MaxLogPageSize"/>.</param>
/// <param name="Cursor">The previous page's <see cref="BanLogPage.NextCursor"/>.</param>
public sealed record BanLogQuery(string? Operator = null, BanAction? Action = null, string? UserId = null,
    DateTimeOffset? From = null, DateTimeOffset? To = null, int Size = 50, string? Cursor = null);

/// <summary>One entry of the app-wide ledger: a user's ban, unban or expiry.</summary>
public sealed record BanLogEntry(string UserId, BanAction Action, DateTimeOffset Time, int? Minutes = null,
    DateTimeOffset? Until = null, string? Reason = null, string? Operator = null);

/// <summary>A page of the app-wide ledger, newest first; <paramref name="NextCursor"/> is null on the last page.</summary>
public sealed record BanLogPage(IReadOnlyList<BanLogEntry> Entries, string? NextCursor)
{
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Entries = ");
        Printing.Items(builder, Entries);
        builder.Append(", NextCursor = ").Append(NextCursor);
        return true;
    }
}
