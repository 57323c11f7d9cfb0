using BanActors.Bans;
using BanActors.Tests.Support;
using Xunit.Abstractions;

namespace BanActors.Tests.Bans;

/// <summary>
/// One owner per running ban's wake-up at any moment: the live user actor (its own timer), or the expiry index once
/// that actor has stopped or before it has started again after a restart. Each expiry is recorded once.
/// </summary>
public sealed class ExpiryHolderSpecs(ITestOutputHelper output) : DatabaseSpecs(output)
{
    private static readonly UserKey[] Users = [new("app1", "u1"), new("app1", "u2"), new("app1", "u3")];

    [Fact]
    public async Task A_live_actor_holds_the_only_timer_of_its_ban_and_records_its_expiry_once()
    {
        var clock = new CountingClock(EngineHost.NewClock());
        await using var host = EngineHost.Start(Database, clock);
        await host.WaitUntilIndexReadyAsync();
        foreach (var user in Users) await host.Engine.BanAsync(user, 10);

        var holders = await host.ExpiryHoldersAsync();
        Assert.Equal(Users.ToHashSet(), holders.HeldByActors.ToHashSet());
        Assert.Empty(holders.HeldByIndex);
        Assert.False(holders.IndexTimerArmed);
        Assert.Equal(Users.Length, clock.ActiveTimers);

        clock.Fake.Advance(TimeSpan.FromMinutes(10));
        await AwaitAssertAsync(async () =>
        {
            foreach (var user in Users) Assert.Single((await host.StoredEventsAsync(user)).OfType<UserUnbanned>());
            Assert.Equal(0, clock.ActiveTimers);
        });
    }

    [Fact]
    public async Task A_passivated_actor_hands_its_wake_up_to_the_index_which_arms_one_timer_for_all_and_records_each_expiry_once()
    {
        var clock = new CountingClock(EngineHost.NewClock());
        await using var host = EngineHost.Start(Database, clock, o => o.IdleTimeout = TimeSpan.FromMilliseconds(200));
        await host.WaitUntilIndexReadyAsync();
        foreach (var user in Users) await host.Engine.BanAsync(user, 10 + Array.IndexOf(Users, user));

        await AwaitAssertAsync(async () =>
        {
            Assert.Equal(0, await host.LiveUserActorsAsync());
            var holders = await host.ExpiryHoldersAsync();
            Assert.Equal(Users.ToHashSet(), holders.HeldByIndex.ToHashSet());
            Assert.Empty(holders.HeldByActors);
            Assert.True(holders.IndexTimerArmed);
            // One timer in all: the index's, for the earliest wake-up it holds.
            Assert.Equal(1, clock.ActiveTimers);
        });

        clock.Fake.Advance(TimeSpan.FromMinutes(12));
        await AwaitAssertAsync(async () =>
        {
            foreach (var user in Users)
            {
                var unbanned = Assert.Single((await host.StoredEventsAsync(user)).OfType<UserUnbanned>());
                Assert.Equal(UnbanCause.Expired, unbanned.Cause);
            }
            Assert.Empty((await host.Engine.ListActiveAsync("app1", 0, 0)).Bans);
        });
    }

    [Fact]
    public async Task After_a_restart_the_index_holds_every_wake_up_until_an_actor_starts_and_takes_its_own_back()
    {
        var first = EngineHost.NewClock();
        await using (var before = EngineHost.Start(Database, first))
        {
            foreach (var user in Users) await before.Engine.BanAsync(user, 10);
        }

        var clock = new CountingClock(first);
        await using var host = EngineHost.Start(Database, clock);
        await host.WaitUntilIndexReadyAsync();
        var holders = await host.ExpiryHoldersAsync();
        Assert.Equal(Users.ToHashSet(), holders.HeldByIndex.ToHashSet());
        Assert.Empty(holders.HeldByActors);
        Assert.Equal(1, clock.ActiveTimers);

        // A status question starts u1's actor: it arms its own timer, and the index stops holding u1's wake-up.
        Assert.True((await host.Engine.GetStatusAsync(Users[0])).IsBanned);
        await AwaitAssertAsync(async () =>
        {
            var now = await host.ExpiryHoldersAsync();
            Assert.Equal([Users[0]], now.HeldByActors);
            Assert.Equal(Users[1..].ToHashSet(), now.HeldByIndex.ToHashSet());
            Assert.Equal(2, clock.ActiveTimers);
        });

        clock.Fake.Advance(TimeSpan.FromMinutes(10));
        await AwaitAssertAsync(async () =>
        {
            foreach (var user in Users) Assert.Single((await host.StoredEventsAsync(user)).OfType<UserUnbanned>());
            Assert.Equal(0, clock.ActiveTimers);
        });
    }
}
