using BanActors.Tests.Support;
using Xunit.Abstractions;

namespace BanActors.Tests.Feed;

/// <summary>
/// The event feed on one node: every ban, unban and expiry reaches a handler registered with the engine, at least once,
/// in order per user, retried while the handler fails, dead-lettered after the retry window, and never lost across a
/// restart. The feed's own read (<see cref="IBanEventFeed.ReadAsync"/>) resumes after an event id.
/// </summary>
public sealed class EventFeedSpecs(ITestOutputHelper output) : DatabaseSpecs(output)
{
    private static readonly UserKey Eve = new("app1", "eve");
    private static readonly UserKey Bob = new("app1", "bob");
    private static readonly UserKey Other = new("app2", "eve");

    [Fact]
    public async Task Every_change_reaches_the_handler_in_order_with_the_ledgers_fields_and_an_expiry_after_its_end_time()
    {
        var clock = EngineHost.NewClock();
        var handler = new RecordingHandler();
        await using var host = EngineHost.Start(Database, clock, handlers: [handler]);

        await host.Engine.BanAsync(Eve, 10, new BanDetails("spam", "alice"));
        await host.Engine.UnbanAsync(Eve, new BanDetails("appeal", "bob"));
        await host.Engine.BanAsync(Eve, 1);
        await host.Engine.BanAsync(Eve, 2, new BanDetails(Operator: "carol"));
        await RecordingHandler.EventuallyAsync(() => handler.Taken.Count == 4, "four events");
        await RecordingHandler.AdvanceUntilAsync(clock, TimeSpan.FromSeconds(30), () => handler.Taken.Count == 5, "the expiry");

        var events = handler.Taken;
        Assert.Equal([BanEvent.Blocked, BanEvent.Unblocked, BanEvent.Blocked, BanEvent.Blocked, BanEvent.BlockExpired],
            events.Select(e => e.Type));
        Assert.All(events, e => Assert.Equal(("app1", "eve"), (e.AppKey, e.UserId)));
        Assert.Equal(events.Select(e => e.Offset).Order(), events.Select(e => e.Offset));
        Assert.Equal(events.Count, events.Select(e => e.Id).Distinct().Count());
        var start = EngineHost.Epoch;
        Assert.Equal(new BanEvent(events[0].Id, BanEvent.Blocked, "app1", "eve", start, start.AddMinutes(10), 10, "spam", "alice"), events[0]);
        Assert.Equal(new BanEvent(events[1].Id, BanEvent.Unblocked, "app1", "eve", start, Reason: "appeal", Operator: "bob"), events[1]);
        Assert.Equal((start.AddMinutes(2), 2, "carol"), (events[3].BlockEndTime, events[3].Minutes, events[3].Operator));
        var expiry = events[4];
        Assert.Equal(start.AddMinutes(2), expiry.BlockEndTime);
        Assert.InRange(expiry.Time, start.AddMinutes(2), clock.GetUtcNow());
        Assert.Null(expiry.Minutes);
    }

    [Fact]
    public async Task A_failing_user_is_retried_with_backoff_and_keeps_its_order_while_other_users_go_on()
    {
        var clock = EngineHost.NewClock();
        var down = true;
        var handler = new RecordingHandler { Fails = e => down && e.UserId == "eve" };
        await using var host = EngineHost.Start(Database, clock, handlers: [handler]);

        await host.Engine.BanAsync(Eve, 10, new BanDetails("first"));
        await RecordingHandler.EventuallyAsync(() => handler.Failures >= 1, "eve's first failure");
        await host.Engine.BanAsync(Eve, 20, new BanDetails("second"));
        await host.Engine.BanAsync(Bob, 10);
        await RecordingHandler.EventuallyAsync(() => handler.Taken.Any(e => e.UserId == "bob"), "bob's ban, past eve's failure");
        Assert.DoesNotContain(handler.Taken, e => e.UserId == "eve");

        // Retried on the engine's clock: 1 s, 2 s, 4 s... Each retry fails while the receiver is down.
        await RecordingHandler.AdvanceUntilAsync(clock, TimeSpan.FromSeconds(1), () => handler.Failures >= 4, "three retries");
        down = false;
        await RecordingHandler.AdvanceUntilAsync(clock, TimeSpan.FromSeconds(2), () => handler.Taken.Count(e => e.UserId == "eve") == 2,
            "eve's two bans after the receiver came back");
        Assert.Equal(["first", "second"], handler.Taken.Where(e => e.UserId == "eve").Select(e => e.Reason));
    }

    [Fact]
    public async Task An_event_failing_past_the_retry_window_is_a_dead_letter_the_users_next_event_goes_on_and_a_replay_delivers_it()
    {
        var clock = EngineHost.NewClock();
        var poisoned = true;
        var handler = new RecordingHandler { Fails = e => poisoned && e.Reason == "poison" };
        await using var host = EngineHost.Start(Database, clock, o =>
        {
            o.EventRetryFor = TimeSpan.FromMinutes(1);
            o.EventRetryMaxDelay = TimeSpan.FromSeconds(10);
        }, handlers: [handler]);

        await host.Engine.BanAsync(Eve, 10, new BanDetails("poison"));
        await host.Engine.BanAsync(Eve, 20, new BanDetails("fine"));
        await RecordingHandler.EventuallyAsync(() => handler.Failures >= 1, "the first failure");
        await RecordingHandler.AdvanceUntilAsync(clock, TimeSpan.FromSeconds(5), () => handler.Taken.Any(e => e.Reason == "fine"),
            "the next event after the dead letter");
        var dead = await host.Feed.GetDeadLettersAsync(handler.Name);
        var letter = Assert.Single(dead);
        Assert.Equal(("poison", "eve"), (letter.Event.Reason, letter.Event.UserId));
        Assert.True(letter.Attempts >= 3, $"{letter.Attempts} attempts");
        Assert.Contains("down", letter.Error);
        Assert.Empty(await host.Feed.GetDeadLettersAsync("someone-else"));

        poisoned = false;
        Assert.Equal(1, await host.Feed.ReplayDeadLettersAsync(handler.Name, [letter.Event.Id]));
        await RecordingHandler.EventuallyAsync(() => handler.Taken.Any(e => e.Reason == "poison"), "the replayed event");
        await RecordingHandler.EventuallyAsync(() => host.Feed.GetDeadLettersAsync(handler.Name).Result.Count == 0, "the dead letter gone");
        await Assert.ThrowsAsync<BanRequestRejectedException>(() => host.Feed.ReplayDeadLettersAsync(handler.Name, ["x1"]));
    }

    [Fact]
    public async Task Nothing_acknowledged_is_lost_across_a_restart_what_was_delivered_is_not_sent_again_and_a_ban_that_ended_meanwhile_expires_after_it()
    {
        var clock = EngineHost.NewClock();
        var first = new RecordingHandler();
        await using (var host = EngineHost.Start(Database, clock, handlers: [first]))
        {
            await host.Engine.BanAsync(Bob, 60);
            await RecordingHandler.EventuallyAsync(() => first.Taken.Count == 1, "bob's ban");
            await RecordingHandler.EventuallyAsync(() => StoredOffset(first.Name) >= first.Taken[0].Offset, "the stored offset");
            // The receiver goes down; eve's ban is durable but not delivered when the process stops.
            first.Fails = _ => true;
            await host.Engine.BanAsync(Eve, 1, new BanDetails("while down"));
            await RecordingHandler.EventuallyAsync(() => first.Failures >= 1, "the failed delivery");
        }

        clock.Advance(TimeSpan.FromMinutes(5));
        var second = new RecordingHandler();
        await using var after = EngineHost.Start(Database, clock, handlers: [second]);
        await RecordingHandler.EventuallyAsync(() => second.Taken.Count == 2, "eve's ban and its expiry after the restart");
        Assert.Equal([(BanEvent.Blocked, "eve"), (BanEvent.BlockExpired, "eve")], second.Taken.Select(e => (e.Type, e.UserId)));
        var expiry = second.Taken[1];
        Assert.Equal(EngineHost.Epoch.AddMinutes(1), expiry.BlockEndTime);
        Assert.Equal(clock.GetUtcNow(), expiry.Time);
    }

    [Fact]
    public async Task The_feed_reads_one_app_from_the_start_after_an_id_or_from_now_and_follows_new_events()
    {
        var clock = EngineHost.NewClock();
        var handler = new RecordingHandler();
        await using var host = EngineHost.Start(Database, clock, handlers: [handler]);
        await host.Engine.BanAsync(Eve, 10);
        await host.Engine.BanAsync(Other, 10);
        await host.Engine.BanAsync(Bob, 10);
        await RecordingHandler.EventuallyAsync(() => handler.Taken.Count == 3, "the three bans in the ledger");

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var all = await Take(host.Feed.ReadAsync("app1", "0", timeout.Token), 2);
        Assert.Equal(["eve", "bob"], all.Select(e => e.UserId));
        var resumed = host.Feed.ReadAsync("app1", all[0].Id, timeout.Token);
        Assert.Equal("bob", (await Take(resumed, 1))[0].UserId);

        // From now: only what is recorded after the position was taken.
        var now = await host.Feed.GetPositionAsync();
        Assert.Equal(handler.Taken.Max(e => e.Offset).ToString(), now);
        var live = Take(host.Feed.ReadAsync("app1", now, timeout.Token), 1);
        await host.Engine.UnbanAsync(Bob);
        Assert.Equal((BanEvent.Unblocked, "bob"), (await live).Select(e => (e.Type, e.UserId)).Single());

        await Assert.ThrowsAsync<BanRequestRejectedException>(() => Take(host.Feed.ReadAsync("app1", "not-an-id"), 1));
        await Assert.ThrowsAsync<BanRequestRejectedException>(() => Take(host.Feed.ReadAsync("bad key!", "0"), 1));
    }

    private static async Task<List<BanEvent>> Take(IAsyncEnumerable<BanEvent> events, int count)
    {
        var taken = new List<BanEvent>();
        await foreach (var e in events)
        {
            taken.Add(e);
            if (taken.Count == count) break;
        }
        return taken;
    }

    /// <summary>The handler's delivered offset, read straight from the ledger's file.</summary>
    private long StoredOffset(string handler)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection(
            BanActors.Storage.LedgerStore.SqliteLedgerConnectionString(Database.Storage.ConnectionString));
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(offset_value), 0) FROM ban_feed_offset WHERE handler = $h";
        command.Parameters.AddWithValue("$h", handler);
        return Convert.ToInt64(command.ExecuteScalar());
    }
}
