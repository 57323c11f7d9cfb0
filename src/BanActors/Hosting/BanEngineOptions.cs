namespace BanActors;

/// <summary>
/// Settings of one embedded ban engine. Binds from configuration (<c>BanActors:Engine</c> in the server). The engine's
/// clock is the <see cref="TimeProvider"/> registered in DI (the system clock unless the host registers another).
/// </summary>
public sealed class BanEngineOptions
{
    /// <summary>Where the journal lives: SQLite by default; PostgreSQL with the BanActors.PostgreSql package.</summary>
    public StorageOptions Storage { get; set; } = new();

    /// <summary>A user actor with no command for this long stops; running bans are kept by the expiry index.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long the facade waits for a durable answer before reporting the engine unavailable.</summary>
    public TimeSpan AskTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Snapshot a user's state every N events.</summary>
    public int SnapshotEvery { get; set; } = 100;

    /// <summary>How many expiries the index waits on at once when many bans end together.</summary>
    public int MaxExpiriesInFlight { get; set; } = 64;

    /// <summary>
    /// How many user actors of a node may have a journal write under way at once; the rest wait their turn outside
    /// the journal, so a burst never runs into the journal's circuit-breaker timeout.
    /// </summary>
    public int MaxConcurrentWrites { get; set; } = 128;

    /// <summary>How long the app-wide ledger keeps an entry; null (the default) keeps it forever: it is the audit log.</summary>
    public TimeSpan? LedgerRetention { get; set; }

    /// <summary>
    /// Off only to measure what the ledger's projection costs (the bench's <c>ledger-cost</c>): without it the
    /// history, the log and the event feed stay empty.
    /// </summary>
    internal bool RunsLedger { get; set; } = true;

    /// <summary>
    /// How long an event handler (<see cref="IBanEventHandler"/>, e.g. a webhook) is retried on one event, with
    /// exponential backoff from 1 s up to <see cref="EventRetryMaxDelay"/>, before the event becomes a dead letter.
    /// </summary>
    public TimeSpan EventRetryFor { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The longest wait between two tries of a failed event.</summary>
    public TimeSpan EventRetryMaxDelay { get; set; } = TimeSpan.FromMinutes(10);
}
