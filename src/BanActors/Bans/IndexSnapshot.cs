namespace BanActors.Bans;

/// <summary>
/// The expiry index's running bans at one point of the ban tag stream: every tagged event up to and including
/// <paramref name="Offset"/> is reflected in <paramref name="Bans"/> (later ones may be too: replaying them is
/// idempotent by sequence number). Ended bans are left out; see <see cref="ActiveBanIndex"/> for why.
/// </summary>
internal sealed record IndexSnapshot(long Offset, IReadOnlyList<IndexSnapshot.RunningBan> Bans)
{
    /// <summary>One running ban, with what the block list shows and the user's sequence number as watermark.</summary>
    internal readonly record struct RunningBan(UserKey User, DateTimeOffset Until, long SequenceNr, DateTimeOffset? Since,
        string? Reason, string? Operator);
}

/// <summary>
/// When the expiry index saves its snapshot and whether it starts from one: HOCON <c>banactors.expiry-index.snapshot</c>
/// (defaults in <c>hocon/banactors.conf</c>).
/// </summary>
/// <param name="PersistenceId">One per engine: every node of a cluster shares the journal, so the singleton's next
/// incarnation, on whichever node, loads what the last one saved.</param>
internal sealed record IndexSnapshotSettings(string PluginId, string PersistenceId, bool Enabled, bool Load, long AfterChanges,
    TimeSpan MinInterval, TimeSpan StopTimeout, TimeSpan LoadTimeout)
{
    /// <summary>Not <c>ban-…</c>: that prefix is the user actors' (<c>ban-{app}-{user}</c>).</summary>
    public const string DefaultPersistenceId = "expiry-index";

    public static IndexSnapshotSettings From(Akka.Configuration.Config config, string pluginId)
    {
        var c = config.GetConfig("banactors.expiry-index.snapshot");
        return new IndexSnapshotSettings(pluginId, DefaultPersistenceId,
            Enabled: c?.GetBoolean("enabled", true) ?? true,
            Load: c?.GetBoolean("load", true) ?? true,
            AfterChanges: Math.Max(1, c?.GetLong("after-changes", 10_000) ?? 10_000),
            MinInterval: c?.GetTimeSpan("min-interval", TimeSpan.FromSeconds(60)) ?? TimeSpan.FromSeconds(60),
            StopTimeout: c?.GetTimeSpan("stop-timeout", TimeSpan.FromSeconds(10)) ?? TimeSpan.FromSeconds(10),
            LoadTimeout: TimeSpan.FromSeconds(30));
    }
}
