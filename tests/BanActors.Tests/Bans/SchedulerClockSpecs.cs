using System.Reflection;
using Akka.Actor;
using BanActors.Hosting;
using BanActors.Tests.Support;

namespace BanActors.Tests.Bans;

/// <summary>
/// Akka.NET's scheduler starts its clock on the first thing scheduled and blocks every caller until a thread-pool
/// task has started it. If the first callers are a burst of recovering user actors on pool threads, they starve
/// the pool that task needs and the process stalls (see <see cref="BanEngineActors.StartSchedulerClock"/>). The
/// engine therefore starts the clock itself. The clock's state is private to Akka, so this spec reads it by
/// reflection; if Akka renames the field, the spec fails and says so, and the workaround needs a new look.
/// </summary>
public sealed class SchedulerClockSpecs : IDisposable
{
    private readonly TempDatabase _database = new();

    [Fact]
    public async Task The_engine_starts_the_scheduler_clock_before_any_user_actor_exists()
    {
        await using var host = EngineHost.Start(_database, EngineHost.NewClock());

        Assert.Equal(0, await host.LiveUserActorsAsync());
        Assert.True(ClockStarted(host.System.Scheduler), "the scheduler clock was not started by the engine");
    }

    [Fact]
    public async Task A_bare_actor_system_has_not_started_its_clock_which_is_why_the_engine_does()
    {
        // Guards the spec above: it would pass vacuously if Akka started the clock eagerly.
        using var system = ActorSystem.Create("bare", "akka.loglevel = WARNING");
        Assert.False(ClockStarted(system.Scheduler));
        await system.Terminate();
    }

    private static bool ClockStarted(IScheduler scheduler)
    {
        var field = scheduler.GetType().GetField("_startTime", BindingFlags.Instance | BindingFlags.NonPublic);
        Assert.True(field is not null, $"{scheduler.GetType().Name} has no _startTime field any more");
        return (long)field.GetValue(scheduler)! != 0;
    }

    public void Dispose() => _database.Dispose();
}
