using Akka.Actor;
using BanActors.Bans;
using BanActors.Tests.Support;
using Xunit.Abstractions;

namespace BanActors.Tests.Hosting;

/// <summary>
/// Each instrument of the meter <c>BanActors</c> moves when its event happens. Every spec bans in an app of its own
/// and reads only that app's series: the meter is static and specs run in parallel.
/// </summary>
public sealed class MetricsSpecs(ITestOutputHelper output) : DatabaseSpecs(output)
{
    private readonly string _app = "metrics" + Guid.NewGuid().ToString("N")[..10];

    private UserKey User(string id) => new(_app, id);

    private (string, object?) App => ("app", _app);

    [Fact]
    public async Task A_ban_counts_once_per_ban_and_a_manual_unban_counts_by_its_cause()
    {
        using var metrics = new MetricRecorder();
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());

        await host.Engine.BanAsync(User("eve"), 10);
        await host.Engine.BanAsync(User("eve"), 20);
        await host.Engine.BanAsync(User("bob"), 10);
        await host.Engine.UnbanAsync(User("eve"));
        await host.Engine.UnbanAsync(User("never-banned"));

        Assert.Equal(3, metrics.Sum("banactors.bans", App));
        Assert.Equal(1, metrics.Sum("banactors.unbans", App, ("cause", "manual")));
        Assert.Equal(0, metrics.Sum("banactors.unbans", App, ("cause", "expired")));
        // Journal writes: three bans and one unban (the unban of a user never banned writes nothing).
        Assert.True(metrics.Values("banactors.journal.write.duration").Count >= 4);
        Assert.All(metrics.Values("banactors.journal.write.duration"), ms => Assert.InRange(ms, 0, 60_000));
    }

    [Fact]
    public async Task An_expiry_counts_as_expired_with_its_lag_from_the_end_time_on_the_engine_clock()
    {
        using var metrics = new MetricRecorder();
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        await host.Engine.BanAsync(User("eve"), 1);

        // The clock jumps two minutes past the end: the timer fires late, so the expiry is recorded two minutes late.
        host.Clock.Advance(TimeSpan.FromMinutes(3));
        await MetricRecorder.EventuallyAsync(() => metrics.Sum("banactors.unbans", App, ("cause", "expired")) == 1, "the expiry");

        Assert.Equal(0, metrics.Sum("banactors.unbans", App, ("cause", "manual")));
        var lag = Assert.Single(metrics.Values("banactors.expiry.lag", App));
        Assert.Equal(TimeSpan.FromMinutes(2).TotalMilliseconds, lag);
    }

    [Fact]
    public async Task Running_bans_per_app_rise_with_bans_fall_with_unbans_and_expiries_and_are_rebuilt_after_a_restart()
    {
        using var metrics = new MetricRecorder();
        var clock = EngineHost.NewClock();
        await using (var host = EngineHost.Start(Database, clock))
        {
            await host.WaitUntilIndexReadyAsync();
            await host.Engine.BanAsync(User("eve"), 10);
            await host.Engine.BanAsync(User("eve"), 20);
            await host.Engine.BanAsync(User("bob"), 5);
            await host.Engine.BanAsync(User("ann"), 30);
            await MetricRecorder.EventuallyAsync(() => metrics.Observe("banactors.bans.running", App) == 3, "three running bans");

            await host.Engine.UnbanAsync(User("ann"));
            clock.Advance(TimeSpan.FromMinutes(5));
            await MetricRecorder.EventuallyAsync(() => metrics.Observe("banactors.bans.running", App) == 1,
                "one running ban after an unban and an expiry");
        }
        Assert.Equal(0, metrics.Observe("banactors.bans.running", App));

        await using var restarted = EngineHost.Start(Database, clock);
        await restarted.WaitUntilIndexReadyAsync();
        Assert.Equal(1, metrics.Observe("banactors.bans.running", App));
    }

    [Fact]
    public async Task A_ban_counts_the_sessions_it_kicks_and_a_banned_users_connect_counts_as_refused()
    {
        using var metrics = new MetricRecorder();
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        var phone = new RecordingSession("phone");
        var laptop = new RecordingSession("laptop");
        Assert.True((await host.Engine.RegisterSessionAsync(User("eve"), phone)).IsAccepted);
        Assert.True((await host.Engine.RegisterSessionAsync(User("eve"), laptop)).IsAccepted);
        Assert.True((await host.Engine.RegisterSessionAsync(User("bob"), new RecordingSession("bob"))).IsAccepted);
        Assert.Equal(0, metrics.Sum("banactors.connects.refused", App));

        await host.Engine.BanAsync(User("eve"), 10);
        await Task.WhenAll(phone.Kicked, laptop.Kicked).WaitAsync(TimeSpan.FromSeconds(10));
        await MetricRecorder.EventuallyAsync(() => metrics.Sum("banactors.sessions.kicked", App) == 2, "two kicked sessions");

        Assert.False((await host.Engine.RegisterSessionAsync(User("eve"), new RecordingSession("again"))).IsAccepted);
        Assert.Equal(1, metrics.Sum("banactors.connects.refused", App, ("cause", "banned")));
        Assert.Equal(2, metrics.Sum("banactors.sessions.kicked", App));
    }

    [Fact]
    public async Task The_event_feed_counts_deliveries_with_their_lag_retries_and_dead_letters_per_handler_and_app()
    {
        using var metrics = new MetricRecorder();
        var clock = EngineHost.NewClock();
        var handler = new RecordingHandler("metrics-feed", _app) { Fails = e => e.Reason == "poison" };
        await using var host = EngineHost.Start(Database, clock, o =>
        {
            o.EventRetryFor = TimeSpan.FromMinutes(1);
            o.EventRetryMaxDelay = TimeSpan.FromSeconds(10);
        }, handlers: [handler]);
        var tags = new[] { App, ("handler", (object?)"metrics-feed") };

        await host.Engine.BanAsync(User("bob"), 10);
        await MetricRecorder.EventuallyAsync(() => metrics.Sum("banactors.events.delivered", tags) == 1, "bob's ban delivered");
        var lag = Assert.Single(metrics.Values("banactors.events.lag", tags));
        Assert.Equal(0, lag);

        await host.Engine.BanAsync(User("eve"), 10, new BanDetails("poison"));
        await MetricRecorder.EventuallyAsync(() => metrics.Sum("banactors.events.retries", tags) >= 1, "a retry");
        await RecordingHandler.AdvanceUntilAsync(clock, TimeSpan.FromSeconds(5),
            () => metrics.Sum("banactors.events.dead_letters", tags) == 1, "the dead letter");
        Assert.True(metrics.Sum("banactors.events.retries", tags) >= 2);
        Assert.Equal(1, metrics.Sum("banactors.events.delivered", tags));
    }
}

/// <summary>Specs of process-wide series without an app attribute: alone, so no other spec's engine moves them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessMetricsCollection
{
    public const string Name = "process-wide metrics";
}

[Collection(ProcessMetricsCollection.Name)]
public sealed class WriteGateMetricsSpecs(ITestOutputHelper output) : DatabaseSpecs(output)
{
    [Fact]
    public async Task The_write_gate_queue_length_counts_the_actors_waiting_for_a_permit()
    {
        using var metrics = new MetricRecorder();
        var gate = Sys.ActorOf(WriteGate.Props(1));
        var holder = CreateTestProbe();
        var waiting = new[] { CreateTestProbe(), CreateTestProbe(), CreateTestProbe() };
        gate.Tell(AcquireWritePermit.Instance, holder.Ref);
        await holder.ExpectMsgAsync<WritePermitGranted>();
        foreach (var probe in waiting) gate.Tell(AcquireWritePermit.Instance, probe.Ref);
        await AwaitConditionAsync(() => Task.FromResult(metrics.Observe("banactors.write_gate.waiting") == 3));

        gate.Tell(ReleaseWritePermit.Instance, holder.Ref);
        await waiting[0].ExpectMsgAsync<WritePermitGranted>();
        await AwaitConditionAsync(() => Task.FromResult(metrics.Observe("banactors.write_gate.waiting") == 2));

        // A waiting actor that stops leaves the queue.
        Sys.Stop(waiting[2].Ref);
        await AwaitConditionAsync(() => Task.FromResult(metrics.Observe("banactors.write_gate.waiting") == 1));

        Sys.Stop(gate);
        await AwaitConditionAsync(() => Task.FromResult(metrics.Observe("banactors.write_gate.waiting") == 0));
    }
}
