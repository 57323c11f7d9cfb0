using System.Globalization;
using BanActors.Storage;

namespace BanActors.Feed;

/// <summary>Ledger rows as feed events.</summary>
internal static class FeedEvents
{
    public static BanEvent From(LedgerStore.Row row)
    {
        var e = row.Entry;
        var id = row.Ordering.ToString(CultureInfo.InvariantCulture);
        return e.Action switch
        {
            BanAction.Block => new BanEvent(id, BanEvent.Blocked, row.User.AppKey, row.User.UserId, e.Time, e.Until, e.Minutes,
                e.Reason, e.Operator),
            BanAction.Unblock => new BanEvent(id, BanEvent.Unblocked, row.User.AppKey, row.User.UserId, e.Time,
                Reason: e.Reason, Operator: e.Operator),
            // An expiry's ledger time is the end time; it was recorded then or, after downtime, later.
            _ => new BanEvent(id, BanEvent.BlockExpired, row.User.AppKey, row.User.UserId,
                row.Recorded is { } recorded && recorded > e.Time ? recorded : e.Time, e.Time),
        };
    }

    /// <summary>An event id as an offset; false for anything but a non-negative decimal number.</summary>
    public static bool TryParseId(string id, out long offset) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out offset) && id.Length <= 19;
}
