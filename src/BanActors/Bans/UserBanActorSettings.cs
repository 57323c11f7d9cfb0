using Akka.Actor;

namespace BanActors.Bans;

/// <summary>What every user ban actor of one engine shares: clock, notifications, passivation and snapshots.</summary>
/// <param name="Clock">The one clock of the engine; tests pass a fake one and move it.</param>
/// <param name="Publish">
/// Called with <see cref="BanStarted"/> / <see cref="BanEnded"/> once they are persisted and before the command is
/// answered. On one node it is a synchronous <c>EventStream.Publish</c>: the notice is in the index's and the
/// registry's mailboxes before the caller hears back, so whatever the caller asks next (the block list, "is this
/// user online") already reflects the change.
/// </param>
/// <param name="IdleTimeout">An actor that has seen no command for this long passivates.</param>
/// <param name="Passivate">Builds the message sent to the parent to passivate (local router or shard).</param>
/// <param name="SnapshotEvery">Save a snapshot every N events so recovery stays short.</param>
/// <param name="Audit">Where bans, unbans and expiries are logged as structured events (see <see cref="BanAudit"/>).</param>
/// <param name="WriteGate">The node's <see cref="Bans.WriteGate"/>; null writes without waiting for a permit.</param>
internal sealed record UserBanActorSettings(
    TimeProvider Clock,
    Action<object> Publish,
    TimeSpan IdleTimeout,
    Func<object, object> Passivate,
    int SnapshotEvery = 100,
    IActorRef? WriteGate = null,
    string? JournalPluginId = null,
    string? SnapshotPluginId = null,
    Microsoft.Extensions.Logging.ILogger? Audit = null);
