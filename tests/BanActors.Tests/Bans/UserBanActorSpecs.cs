using Akka.Actor;
using BanActors.Bans;
using BanActors.Hosting;
using BanActors.Tests.Support;
using Xunit.Abstractions;

namespace BanActors.Tests.Bans;

public sealed class UserBanActorSpecs(ITestOutputHelper output) : DatabaseSpecs(output)
{
    private static readonly UserKey Alice = new("app1", "alice");
    [Fact]
    public async Task A_ban_holds_until_its_end_time_and_is_recorded_as_expired_at_that_time()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        var accepted = await host.Engine.BanAsync(Alice, 10);
        Assert.Equal(EngineHost.Epoch.AddMinutes(10), accepted.Until);

        var status = await host.Engine.GetStatusAsync(Alice);
        Assert.True(status.IsBanned);
        Assert.Equal(accepted.Until, status.Until);

        host.Clock.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(1));
        Assert.True((await host.Engine.GetStatusAsync(Alice)).IsBanned);

        host.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False((await host.Engine.GetStatusAsync(Alice)).IsBanned);
        await AwaitAssertAsync(async () =>
        {
            var events = await host.StoredEventsAsync(Alice);
            var unbanned = Assert.IsType<UserUnbanned>(events[^1]);
            Assert.Equal(UnbanCause.Expired, unbanned.Cause);
            Assert.Equal(accepted.Until, unbanned.At);
        }, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Is_banned_is_false_from_the_end_time_on_even_when_no_timer_ran()
    {
        var at = EngineHost.Epoch;
        Assert.True(BanRules.IsBanned(at.AddMinutes(1), at));
        Assert.True(BanRules.IsBanned(at.AddMinutes(1), at.AddMinutes(1).AddTicks(-1)));
        Assert.False(BanRules.IsBanned(at.AddMinutes(1), at.AddMinutes(1)));
        Assert.False(BanRules.IsBanned(null, at));

        // A fake clock that never fires timers past their time: status still flips at the end time.
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        await host.Engine.BanAsync(Alice, 1);
        host.Clock.SetUtcNow(EngineHost.Epoch.AddMinutes(1));
        Assert.False((await host.Engine.GetStatusAsync(Alice)).IsBanned);
    }

    [Fact]
    public async Task A_ban_survives_a_restart_and_lifts_at_its_end_time_with_no_request_after_the_restart()
    {
        var clock = EngineHost.NewClock();
        DateTimeOffset until;
        await using (var first = EngineHost.Start(Database, clock))
        {
            until = (await first.Engine.BanAsync(Alice, 30)).Until;
        }

        clock.Advance(TimeSpan.FromMinutes(5));
        await using var second = EngineHost.Start(Database, clock);
        await second.WaitUntilIndexReadyAsync();
        var page = await second.Engine.ListActiveAsync("app1", 0, 50);
        Assert.Equal([("alice", until)], page.Bans.Select(b => (b.UserId, b.Until)));
        Assert.IsType<UserBanned>((await second.StoredEventsAsync(Alice))[^1]);

        clock.Advance(TimeSpan.FromMinutes(25));
        await AwaitAssertAsync(async () =>
        {
            var unbanned = Assert.IsType<UserUnbanned>((await second.StoredEventsAsync(Alice))[^1]);
            Assert.Equal(UnbanCause.Expired, unbanned.Cause);
            Assert.Equal(until, unbanned.At);
        }, TimeSpan.FromSeconds(10));
        Assert.Empty((await second.Engine.ListActiveAsync("app1", 0, 50)).Bans);
    }

    [Fact]
    public async Task A_ban_that_ended_while_the_engine_was_down_is_lifted_right_after_startup()
    {
        var clock = EngineHost.NewClock();
        DateTimeOffset until;
        await using (var first = EngineHost.Start(Database, clock))
        {
            until = (await first.Engine.BanAsync(Alice, 10)).Until;
        }

        clock.Advance(TimeSpan.FromHours(3));
        await using var second = EngineHost.Start(Database, clock);
        await AwaitAssertAsync(async () =>
        {
            var unbanned = Assert.IsType<UserUnbanned>((await second.StoredEventsAsync(Alice))[^1]);
            Assert.Equal(UnbanCause.Expired, unbanned.Cause);
            Assert.Equal(until, unbanned.At);
        }, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_command_that_starts_the_actor_after_a_restart_comes_after_the_expiry_of_a_ban_that_ended_while_down()
    {
        var clock = EngineHost.NewClock();
        DateTimeOffset first;
        await using (var before = EngineHost.Start(Database, clock))
        {
            first = (await before.Engine.BanAsync(Alice, 5)).Until;
        }

        clock.Advance(TimeSpan.FromMinutes(10));
        await using var after = EngineHost.Start(Database, clock);
        // The re-ban is the first command: it waits while the actor recovers, and must find the old ban recorded as ended.
        var second = await after.Engine.BanAsync(Alice, 3);

        var history = (await after.Engine.GetHistoryAsync(Alice)).Entries.Reverse().Select(e => (e.Action, e.Time)).ToList();
        Assert.Equal([(BanAction.Block, EngineHost.Epoch), (BanAction.Expire, first), (BanAction.Block, second.Until.AddMinutes(-3))],
            history);
    }

    [Fact]
    public async Task A_reban_replaces_the_end_time()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        await host.Engine.BanAsync(Alice, 60);
        host.Clock.Advance(TimeSpan.FromMinutes(1));
        var second = await host.Engine.BanAsync(Alice, 5);
        Assert.Equal(EngineHost.Epoch.AddMinutes(6), second.Until);

        host.Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.False((await host.Engine.GetStatusAsync(Alice)).IsBanned);
        await AwaitAssertAsync(async () =>
            Assert.Equal(UnbanCause.Expired, Assert.IsType<UserUnbanned>((await host.StoredEventsAsync(Alice))[^1]).Cause),
            TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task An_unban_ends_the_ban_at_once()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        await host.Engine.BanAsync(Alice, 60);
        var unban = await host.Engine.UnbanAsync(Alice);

        Assert.True(unban.WasBanned);
        Assert.False((await host.Engine.GetStatusAsync(Alice)).IsBanned);
        var unbanned = Assert.IsType<UserUnbanned>((await host.StoredEventsAsync(Alice))[^1]);
        Assert.Equal(UnbanCause.Manual, unbanned.Cause);
        Assert.Equal(EngineHost.Epoch, unbanned.At);
    }

    [Fact]
    public async Task Unbanning_a_user_who_is_not_banned_succeeds_and_persists_nothing()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        var unban = await host.Engine.UnbanAsync(Alice);

        Assert.False(unban.WasBanned);
        Assert.Empty(await host.StoredEventsAsync(Alice));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(43_201)]
    [InlineData(int.MaxValue)]
    public async Task An_out_of_range_minute_is_rejected_and_nothing_is_persisted(int minutes)
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        var rejected = await Assert.ThrowsAsync<BanRequestRejectedException>(() => host.Engine.BanAsync(Alice, minutes));
        Assert.Contains("minute", rejected.Message);

        // The actor itself refuses too, for callers that bypass the facade.
        var reply = await host.Engine.Actors.Bans.Ask<object>(new BanUser(Alice, minutes), TimeSpan.FromSeconds(10));
        Assert.IsType<BanRejected>(reply);
        Assert.Empty(await host.StoredEventsAsync(Alice));
        Assert.False((await host.Engine.GetStatusAsync(Alice)).IsBanned);
    }

    [Fact]
    public async Task The_longest_ban_is_accepted_and_a_one_minute_ban_is_the_shortest()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        Assert.Equal(EngineHost.Epoch.AddMinutes(43_200), (await host.Engine.BanAsync(Alice, 43_200)).Until);
        Assert.Equal(EngineHost.Epoch.AddMinutes(1), (await host.Engine.BanAsync(new UserKey("app1", "bob"), 1)).Until);
    }

    [Fact]
    public async Task Idle_user_actors_are_passivated_and_banned_ones_still_lift_on_time()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock(),
            options => options.IdleTimeout = TimeSpan.FromMilliseconds(200));
        await host.WaitUntilIndexReadyAsync();
        for (var i = 0; i < 50; i++) await host.Engine.GetStatusAsync(new UserKey("app1", $"idle-{i}"));
        await host.Engine.BanAsync(Alice, 10);
        Assert.True(await host.LiveUserActorsAsync() > 0);

        await AwaitAssertAsync(async () => Assert.Equal(0, await host.LiveUserActorsAsync()), TimeSpan.FromSeconds(15));

        host.Clock.Advance(TimeSpan.FromMinutes(10));
        await AwaitAssertAsync(async () =>
            Assert.Equal(UnbanCause.Expired, Assert.IsType<UserUnbanned>((await host.StoredEventsAsync(Alice))[^1]).Cause),
            TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_user_of_one_app_is_not_the_same_user_in_another_app()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        await host.Engine.BanAsync(new UserKey("app1", "carol"), 10);

        Assert.False((await host.Engine.GetStatusAsync(new UserKey("app2", "carol"))).IsBanned);
        await host.WaitUntilIndexReadyAsync();
        Assert.Empty((await host.Engine.ListActiveAsync("app2", 0, 50)).Bans);
        Assert.Single((await host.Engine.ListActiveAsync("app1", 0, 50)).Bans);
    }

    [Fact]
    public async Task A_command_to_a_user_whose_history_cannot_be_read_fails_at_once_with_that_reason()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock(), o => o.AskTimeout = TimeSpan.FromSeconds(15));
        await host.Engine.BanAsync(Alice, 10);
        // The journal's table is gone from under the running engine: the next actor to start cannot recover.
        Database.Execute("ALTER TABLE event_journal RENAME TO event_journal_gone");

        var failure = await Assert.ThrowsAsync<BanEngineUnavailableException>(() =>
            host.Engine.BanAsync(new UserKey("app1", "bob"), 10));

        // Not "no durable answer within 15 s": the caller is told as soon as the recovery failed.
        Assert.Equal("the journal could not be read", failure.Message);
    }

    [Fact]
    public async Task A_page_of_the_block_list_holds_at_most_a_thousand_bans()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        await Task.WhenAll(Enumerable.Range(0, 1_050).Select(i => host.Engine.BanAsync(new UserKey("big", $"u{i:0000}"), 10 + i)));
        await host.WaitUntilIndexReadyAsync();

        var first = await host.Engine.ListActiveAsync("big", 1, 5_000);
        Assert.Equal(1_000, first.Bans.Count);
        Assert.Equal("u1049", first.Bans[0].UserId);
        Assert.Equal(1_000, (await host.Engine.ListActiveAsync("big", 0, 50)).Bans.Count);
        Assert.Equal(50, (await host.Engine.ListActiveAsync("big", 2, 1_000)).Bans.Count);
    }

}
