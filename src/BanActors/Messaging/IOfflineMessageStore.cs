using BanActors.Bans;

namespace BanActors.Messaging;

/// <summary>
/// Durable store of messages kept for users who are offline or banned, in the same database as the journal.
/// Implementations create their table on first use.
/// </summary>
internal interface IOfflineMessageStore
{
    /// <summary>Creates the table and indexes if they do not exist; safe to call again.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>Keeps <paramref name="messages"/> in one transaction, in list order (their send order).</summary>
    Task AddAsync(IReadOnlyList<UserMessage> messages, CancellationToken cancellationToken = default);

    /// <summary>
    /// Up to <paramref name="limit"/> messages for <paramref name="user"/> sent at or after <paramref name="notBefore"/>,
    /// in send order, starting after <paramref name="after"/> (null: from the first).
    /// </summary>
    Task<IReadOnlyList<KeptMessage>> LoadAsync(UserKey user, DateTimeOffset notBefore, KeptMessage? after, int limit,
        CancellationToken cancellationToken = default);

    /// <summary>Removes delivered messages by their store ids.</summary>
    Task DeleteAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken = default);

    /// <summary>Removes every message sent before <paramref name="cutoff"/>; returns how many.</summary>
    Task<int> PurgeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default);

    /// <summary>How many messages are kept per app, expired or not (for the metrics).</summary>
    Task<IReadOnlyDictionary<string, long>> CountByAppAsync(CancellationToken cancellationToken = default);

    /// <summary>How many messages are kept for <paramref name="user"/>, expired or not (for operators and tests).</summary>
    Task<int> CountAsync(UserKey user, CancellationToken cancellationToken = default);
}
