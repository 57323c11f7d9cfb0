using Akka.Actor;
using Akka.Event;
using Akka.Persistence.Query;
using BanActors.Bans;
using BanActors.Feed;
using BanActors.Sessions;
using BanActors.Storage;

namespace BanActors.Hosting;

/// <summary>Registry keys of the engine's actors in Akka.Hosting's <c>ActorRegistry</c>.</summary>
internal sealed class BanRouterKey;

/// <inheritdoc cref="BanRouterKey"/>
internal sealed class ActiveBanIndexKey;

/// <inheritdoc cref="BanRouterKey"/>
internal sealed class ConnectionRegistryKey;

/// <inheritdoc cref="BanRouterKey"/>
internal sealed class SessionsKey;

/// <summary>The engine's top-level actors on one node.</summary>
/// <param name="Bans">The router (one node) or shard region (cluster) of the user ban actors.</param>
/// <param name="Index">The expiry index (or, in a cluster, the proxy to its singleton).</param>
/// <param name="Registry">This node's connection registry: sessions register here.</param>
/// <param name="Sessions">Answers online status and live delivery for every node (on one node: the registry).</param>
internal sealed record BanEngineActors(IActorRef Bans, IActorRef Index, IActorRef Registry, IActorRef Sessions)
{
    /// <summary>
    /// Starts the engine in <paramref name="system"/> (which must use <see cref="BanEngineConfig"/>), in the shape that
    /// <paramref name="topology"/> gives it, on <paramref name="clock"/>.
    /// </summary>
    /// <paramref name="handlers"/> are the event feed's durable consumers (DI's <see cref="IBanEventHandler"/>s).
    public static BanEngineActors Start(ActorSystem system, BanEngineOptions options, TimeProvider clock, IEngineTopology topology,
        IReadOnlyList<IBanEventHandler>? handlers = null, Microsoft.Extensions.Logging.ILoggerFactory? loggers = null)
    {
        StartSchedulerClock(system);
        StartReadJournal(system);
        var gate = system.ActorOf(WriteGate.Props(options.MaxConcurrentWrites), "ban-write-gate");
        var settings = new UserBanActorSettings(clock, topology.Publisher(system), options.IdleTimeout, topology.Passivate,
            options.SnapshotEvery, gate, BanEngineConfig.JournalPluginId, BanEngineConfig.SnapshotPluginId,
            loggers?.CreateLogger(BanAudit.Category));
        var bans = topology.StartUsers(system, user => UserBanActor.Props(user, settings));
        var index = topology.StartIndex(system, ActiveBanIndex.Props(bans, clock, BanEngineConfig.QueryPluginId,
            options.MaxExpiriesInFlight, followJournal: topology.NoticesMayBeLost,
            snapshots: IndexSnapshotSettings.From(system.Settings.Config, BanEngineConfig.SnapshotPluginId),
            journalPluginId: BanEngineConfig.JournalPluginId));
        var ledger = new LedgerStore(options.Storage);
        if (options.RunsLedger)
            topology.StartOnce(system, LedgerProjection.Props(ledger, clock, BanEngineConfig.QueryPluginId,
                options.LedgerRetention, BanEngineConfig.JournalPluginId), "ban-ledger");
        if (handlers is { Count: > 0 }) StartFeed(system, options, clock, topology, ledger, handlers);
        var registry = system.ActorOf(ConnectionRegistry.Props(bans, options.AskTimeout), ConnectionRegistry.Name);
        return new BanEngineActors(bans, index, registry, topology.StartSessions(system, registry));
    }

    private static void StartFeed(ActorSystem system, BanEngineOptions options, TimeProvider clock, IEngineTopology topology,
        LedgerStore ledger, IReadOnlyList<IBanEventHandler> handlers)
    {
        if (handlers.GroupBy(h => h.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new InvalidOperationException($"Two event handlers are named '{twice.Key}'; each needs a name of its own");
        var settings = new FeedSettings(options.EventRetryFor, options.EventRetryMaxDelay);
        topology.StartOnce(system, FeedDispatcher.Props(handlers, new FeedStore(ledger), clock, settings), "ban-feed");
    }

    /// <summary>
    /// Starts the actor system's scheduler now, from the thread that starts the engine. Akka.NET's
    /// <c>HashedWheelTimerScheduler</c> starts its clock lazily, on the first thing scheduled, as a thread-pool task,
    /// and blocks every caller until that task has run. On a fresh engine the first things scheduled are the
    /// recovery timeouts of the first burst of user actors, each recovering on a pool thread: they all block the
    /// pool that the clock's task is queued on, and the whole process stalls until the pool has grown enough
    /// (measured: 18.8 s on 2 cores with 1,000 first bans, so bans timed out; see akkadotnet/akka.net#7130).
    /// Started here, while the pool is idle, the clock is running before any user actor exists.
    /// </summary>
    private static void StartSchedulerClock(ActorSystem system) =>
        system.Scheduler.Advanced.ScheduleOnce(TimeSpan.Zero, static () => { });

    /// <summary>
    /// Starts the query side's read journal now, from the thread that starts the engine. Its constructor blocks for
    /// up to 5 s until the write journal has created its tables; done lazily, that wait would hold a pool thread
    /// inside the ban index while the first bans arrive. A failure here is only logged: the index retries.
    /// </summary>
    private static void StartReadJournal(ActorSystem system)
    {
        try
        {
            PersistenceQuery.Get(system).ReadJournalFor<IReadJournal>(BanEngineConfig.QueryPluginId);
        }
        catch (Exception e)
        {
            system.Log.Warning(e, "The read journal did not start with the engine; the ban index will retry");
        }
    }
}
