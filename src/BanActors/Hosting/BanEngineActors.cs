using Akka.Actor;
using Akka.Event;
using Akka.Persistence.Query;
using BanActors.Bans;
using BanActors.Routing;
using BanActors.Sessions;
using BanActors.Storage;

namespace BanActors.Hosting;

/// <summary>Registry keys of the engine's actors in Akka.Hosting's <c>ActorRegistry</c>.</summary>
public sealed class BanRouterKey;

/// <inheritdoc cref="BanRouterKey"/>
public sealed class ActiveBanIndexKey;

/// <inheritdoc cref="BanRouterKey"/>
public sealed class ConnectionRegistryKey;

/// <summary>The engine's top-level actors on one node.</summary>
/// <param name="Bans">The router (locally) or shard region (cluster) of the user ban actors.</param>
public sealed record BanEngineActors(IActorRef Bans, IActorRef Index, IActorRef Registry)
{
    /// <summary>
    /// Starts the single-node engine in <paramref name="system"/> (which must use <see cref="BanEngineConfig"/>).
    /// </summary>
    public static BanEngineActors StartLocal(ActorSystem system, BanEngineOptions options)
    {
        // Notices go straight to the node's event stream, where the index and the registry listen.
        var settings = UserSettings(system, options, system.EventStream.Publish, stop => new PassivateUser(stop));
        var router = system.ActorOf(BanRouter.Props(user => UserBanActor.Props(user, settings)), "bans");
        return StartReadSide(system, options, router);
    }

    /// <summary>
    /// The settings every user actor of this node shares; starts the node's <see cref="WriteGate"/>, and first the
    /// services that would otherwise start on the first burst of user actors (<see cref="StartSchedulerClock"/>,
    /// <see cref="StartReadJournal"/>).
    /// </summary>
    public static UserBanActorSettings UserSettings(ActorSystem system, BanEngineOptions options, Action<object> publish,
        Func<object, object> passivate)
    {
        StartSchedulerClock(system);
        StartReadJournal(system);
        var gate = system.ActorOf(WriteGate.Props(options.MaxConcurrentWrites), "ban-write-gate");
        return new UserBanActorSettings(options.Clock, publish, options.IdleTimeout, passivate, options.SnapshotEvery, gate,
            BanEngineConfig.JournalPluginId, BanEngineConfig.SnapshotPluginId);
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
    public static void StartSchedulerClock(ActorSystem system) =>
        system.Scheduler.Advanced.ScheduleOnce(TimeSpan.Zero, static () => { });

    /// <summary>
    /// Starts the query side's read journal now, from the thread that starts the engine. Its constructor blocks for
    /// up to 5 s until the write journal has created its tables; done lazily, that wait would hold a pool thread
    /// inside the ban index while the first bans arrive. A failure here is only logged: the index retries.
    /// </summary>
    public static void StartReadJournal(ActorSystem system)
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

    /// <summary>Starts the index and the connection registry in front of an existing router or shard region.</summary>
    public static BanEngineActors StartReadSide(ActorSystem system, BanEngineOptions options, IActorRef bans)
    {
        var index = system.ActorOf(ActiveBanIndex.Props(bans, options.Clock, BanEngineConfig.QueryPluginId,
            options.MaxExpiriesInFlight), "ban-index");
        var registry = system.ActorOf(ConnectionRegistry.Props(bans, options.AskTimeout), "connections");
        return new BanEngineActors(bans, index, registry);
    }
}
