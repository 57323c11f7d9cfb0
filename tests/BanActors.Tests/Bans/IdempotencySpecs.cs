using BanActors.Tests.Support;
using Xunit.Abstractions;

namespace BanActors.Tests.Bans;

/// <summary>
/// Safe retries through the facade: a ban or unban with an idempotency key, repeated by the same app within 24 hours
/// (across restarts), gets the first answer and writes nothing; the same key with other parameters is rejected.
/// </summary>
public sealed class IdempotencySpecs(ITestOutputHelper output) : DatabaseSpecs(output)
{
    private static readonly UserKey Eve = new("app1", "eve");
    private static readonly UserKey Mallory = new("app1", "mallory");

    [Fact]
    public async Task A_repeated_ban_gets_the_first_answer_does_not_move_its_end_time_and_writes_nothing()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        var details = new BanDetails("spam", "alice", "ban-1");
        var first = await host.Engine.BanAsync(Eve, 10, details);

        host.Clock.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(first, await host.Engine.BanAsync(Eve, 10, details));
        Assert.Equal(first.Until, (await host.Engine.GetStatusAsync(Eve)).Until);
        Assert.Single(await host.StoredEventsAsync(Eve));
        // The key is not part of the ledger.
        Assert.Equal([new BanHistoryEntry(BanAction.Block, EngineHost.Epoch, 10, first.Until, "spam", "alice")],
            (await host.Engine.GetHistoryAsync(Eve)).Entries);
    }

    [Fact]
    public async Task A_repeated_unban_gets_the_first_answer_and_writes_nothing()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        await host.Engine.BanAsync(Eve, 10);
        var first = await host.Engine.UnbanAsync(Eve, new BanDetails(IdempotencyKey: "unban-1"));
        Assert.True(first.WasBanned);

        // Without the key this would say WasBanned: false.
        Assert.Equal(first, await host.Engine.UnbanAsync(Eve, new BanDetails(IdempotencyKey: "unban-1")));
        Assert.Equal(2, (await host.StoredEventsAsync(Eve)).Count);
    }

    [Fact]
    public async Task The_same_key_with_other_parameters_is_rejected_and_changes_nothing()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        var first = await host.Engine.BanAsync(Eve, 10, new BanDetails("spam", IdempotencyKey: "k"));
        host.Clock.Advance(TimeSpan.FromMinutes(1));

        foreach (var other in new Func<Task>[]
                 {
                     () => host.Engine.BanAsync(Eve, 20, new BanDetails("spam", IdempotencyKey: "k")),
                     () => host.Engine.BanAsync(Eve, 10, new BanDetails("other", IdempotencyKey: "k")),
                     () => host.Engine.BanAsync(Eve, 10, new BanDetails("spam", "bob", "k")),
                     () => host.Engine.BanAsync(Mallory, 10, new BanDetails("spam", IdempotencyKey: "k")),
                     () => host.Engine.UnbanAsync(Eve, new BanDetails("spam", IdempotencyKey: "k")),
                 })
        {
            var rejected = await Assert.ThrowsAsync<BanRequestRejectedException>(other);
            Assert.Contains("other parameters", rejected.Message);
        }
        Assert.Single(await host.StoredEventsAsync(Eve));
        Assert.Empty(await host.StoredEventsAsync(Mallory));
        Assert.Equal(first.Until, (await host.Engine.GetStatusAsync(Eve)).Until);
    }

    [Fact]
    public async Task Keys_are_per_app()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        var otherApp = new UserKey("app2", "eve");
        var inApp1 = await host.Engine.BanAsync(Eve, 10, new BanDetails(IdempotencyKey: "shared"));

        host.Clock.Advance(TimeSpan.FromMinutes(1));
        var inApp2 = await host.Engine.BanAsync(otherApp, 20, new BanDetails(IdempotencyKey: "shared"));
        Assert.Equal(EngineHost.Epoch.AddMinutes(21), inApp2.Until);
        Assert.Single(await host.StoredEventsAsync(otherApp));
        // Each app's key still answers its own first call.
        Assert.Equal(inApp1, await host.Engine.BanAsync(Eve, 10, new BanDetails(IdempotencyKey: "shared")));
        Assert.Equal(inApp2, await host.Engine.BanAsync(otherApp, 20, new BanDetails(IdempotencyKey: "shared")));
    }

    [Fact]
    public async Task A_key_holds_across_a_restart_on_the_same_database()
    {
        var clock = EngineHost.NewClock();
        var details = new BanDetails("spam", "alice", "ban-1");
        BanAccepted first;
        await using (var host = EngineHost.Start(Database, clock))
        {
            first = await host.Engine.BanAsync(Eve, 10, details);
        }

        clock.Advance(TimeSpan.FromMinutes(2));
        await using var after = EngineHost.Start(Database, clock);
        Assert.Equal(first, await after.Engine.BanAsync(Eve, 10, details));
        await Assert.ThrowsAsync<BanRequestRejectedException>(() => after.Engine.BanAsync(Eve, 11, details));
        Assert.Single(await after.StoredEventsAsync(Eve));
        Assert.Equal(first.Until, (await after.Engine.GetStatusAsync(Eve)).Until);
    }

    [Fact]
    public async Task A_key_is_forgotten_24_hours_after_its_first_use()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        // Bans longer than the key's day, so that no expiry is written meanwhile.
        var details = new BanDetails(IdempotencyKey: "daily");
        var first = await host.Engine.BanAsync(Eve, 2000, details);

        host.Clock.Advance(TimeSpan.FromHours(24) - TimeSpan.FromMinutes(1));
        Assert.Equal(first, await host.Engine.BanAsync(Eve, 2000, details));
        Assert.Single(await host.StoredEventsAsync(Eve));

        host.Clock.Advance(TimeSpan.FromMinutes(2));
        var again = await host.Engine.BanAsync(Eve, 2100, details);
        Assert.Equal(host.Clock.GetUtcNow().AddMinutes(2100), again.Until);
        Assert.Equal(again.Until, (await host.Engine.GetStatusAsync(Eve)).Until);
        // From now on the key answers with the new call's answer.
        Assert.Equal(again, await host.Engine.BanAsync(Eve, 2100, details));
    }

    [Fact]
    public async Task A_key_over_128_characters_or_empty_is_rejected_and_nothing_is_written()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        var tooLong = new string('k', BanRules.MaxIdempotencyKeyLength + 1);
        var rejected = await Assert.ThrowsAsync<BanRequestRejectedException>(() =>
            host.Engine.BanAsync(Eve, 10, new BanDetails(IdempotencyKey: tooLong)));
        Assert.Contains($"longer than {BanRules.MaxIdempotencyKeyLength}", rejected.Message);
        await Assert.ThrowsAsync<BanRequestRejectedException>(() =>
            host.Engine.UnbanAsync(Eve, new BanDetails(IdempotencyKey: tooLong)));
        await Assert.ThrowsAsync<BanRequestRejectedException>(() =>
            host.Engine.BanAsync(Eve, 10, new BanDetails(IdempotencyKey: "")));
        Assert.Empty(await host.StoredEventsAsync(Eve));

        var longest = new string('k', BanRules.MaxIdempotencyKeyLength);
        var accepted = await host.Engine.BanAsync(Eve, 10, new BanDetails(IdempotencyKey: longest));
        Assert.Equal(accepted, await host.Engine.BanAsync(Eve, 10, new BanDetails(IdempotencyKey: longest)));
        Assert.Single(await host.StoredEventsAsync(Eve));
    }
}
