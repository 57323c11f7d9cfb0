using System.Globalization;
using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using BanActors.Storage;

namespace BanActors.Bans;

/// <summary>
/// A user's ban history, read from the journal: every event of one user's actor is a ledger entry, so the history
/// costs no second write. Pages go backwards by sequence number; the cursor is the last sequence number still to read.
/// </summary>
internal static class BanHistory
{
    public static bool TryParseCursor(string cursor, out long before) =>
        long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out before) && before >= 0;

    /// <summary>Up to <paramref name="size"/> entries with sequence numbers up to <paramref name="last"/>, newest first.</summary>
    public static async Task<BanHistoryPage> ReadAsync(ActorSystem system, UserKey user, long last, int size,
        CancellationToken cancellationToken)
    {
        if (last <= 0) return new BanHistoryPage(user, [], null);
        var from = Math.Max(1, last - size + 1);
        var journal = PersistenceQuery.Get(system).ReadJournalFor<ICurrentEventsByPersistenceIdQuery>(BanEngineConfig.QueryPluginId);
        var envelopes = await journal.CurrentEventsByPersistenceId(user.PersistenceId, from, last)
            .RunWith(Sink.Seq<EventEnvelope>(), system.Materializer()).WaitAsync(cancellationToken).ConfigureAwait(false);
        var entries = envelopes
            .OrderByDescending(e => e.SequenceNr)
            .Select(e => Entry(e.Event))
            .OfType<BanHistoryEntry>()
            .ToList();
        return new BanHistoryPage(user, entries, from > 1 ? (from - 1).ToString(CultureInfo.InvariantCulture) : null);
    }

    public static BanHistoryEntry? Entry(object @event) => @event switch
    {
        UserBanned e => new BanHistoryEntry(BanAction.Block, e.At, (int)Math.Round((e.Until - e.At).TotalMinutes), e.Until,
            e.Reason, e.Operator),
        UserUnbanned { Cause: UnbanCause.Manual } e => new BanHistoryEntry(BanAction.Unblock, e.At, Reason: e.Reason, Operator: e.Operator),
        UserUnbanned e => new BanHistoryEntry(BanAction.Expire, e.At),
        _ => null,
    };
}
