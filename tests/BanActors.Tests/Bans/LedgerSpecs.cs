using BanActors.Tests.Support;
using Xunit.Abstractions;

namespace BanActors.Tests.Bans;

/// <summary>The ledger through the facade: reason and operator are durable, and a user's history survives a restart.</summary>
public sealed class LedgerSpecs(ITestOutputHelper output) : DatabaseSpecs(output)
{
    private static readonly UserKey Eve = new("app1", "eve");

    [Fact]
    public async Task A_users_history_with_reasons_and_operators_survives_a_restart_and_the_running_ban_keeps_its_reason()
    {
        var clock = EngineHost.NewClock();
        await using (var host = EngineHost.Start(Database, clock))
        {
            await host.Engine.BanAsync(Eve, 10, new BanDetails("spam", "alice"));
            await host.Engine.UnbanAsync(Eve, new BanDetails(Operator: "bob"));
            await host.Engine.BanAsync(Eve, 30, new BanDetails("again", "carol"));
        }

        await using var after = EngineHost.Start(Database, clock);
        var page = await after.Engine.GetHistoryAsync(Eve, 10);
        Assert.Null(page.NextCursor);
        Assert.Equal(
            [
                new BanHistoryEntry(BanAction.Block, EngineHost.Epoch, 30, EngineHost.Epoch.AddMinutes(30), "again", "carol"),
                new BanHistoryEntry(BanAction.Unblock, EngineHost.Epoch, Operator: "bob"),
                new BanHistoryEntry(BanAction.Block, EngineHost.Epoch, 10, EngineHost.Epoch.AddMinutes(10), "spam", "alice"),
            ],
            page.Entries);
        var status = await after.Engine.GetStatusAsync(Eve);
        Assert.Equal("again", status.Reason);
        await after.WaitUntilIndexReadyAsync();
        var listed = Assert.Single((await after.Engine.ListActiveAsync("app1", 0, 0)).Bans);
        Assert.Equal(new ActiveBan("eve", EngineHost.Epoch.AddMinutes(30), EngineHost.Epoch, "again", "carol"), listed);
    }

    [Fact]
    public async Task A_reason_or_operator_over_its_limit_is_rejected_by_the_facade_and_nothing_is_written()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        await Assert.ThrowsAsync<BanRequestRejectedException>(() =>
            host.Engine.BanAsync(Eve, 10, new BanDetails(new string('r', BanRules.MaxReasonLength + 1))));
        await Assert.ThrowsAsync<BanRequestRejectedException>(() =>
            host.Engine.UnbanAsync(Eve, new BanDetails(Operator: new string('o', BanRules.MaxOperatorLength + 1))));
        Assert.Empty(await host.StoredEventsAsync(Eve));
        Assert.Empty((await host.Engine.GetHistoryAsync(Eve)).Entries);
    }

    [Fact]
    public async Task The_app_wide_log_is_projected_from_the_journal_with_events_of_the_first_format_and_resumes_after_a_restart()
    {
        var clock = EngineHost.NewClock();
        var old = new UserKey("app1", "u1");
        await using (var host = EngineHost.Start(Database, clock))
        {
            await host.Engine.BanAsync(old, 10);
            await host.Engine.BanAsync(Eve, 20, new BanDetails("spam", "alice"));
            await AwaitAssertAsync(async () => Assert.Equal(2, (await host.Engine.GetLogAsync("app1", new BanLogQuery())).Entries.Count),
                TimeSpan.FromSeconds(10));
        }
        // The first user's ban as the version before the ledger wrote it (BanEventSerializerSpecs), and an empty ledger:
        // its offset is back at the journal's start, and the projection writes it again from there.
        Database.Execute("UPDATE event_journal SET payload = x'046170703102753100D08B08A44BDF08008C2C6EA54BDF08', manifest = 'UB1' " +
                         "WHERE persistence_id = 'ban-app1-u1'");
        await using (var ledger = new Microsoft.Data.Sqlite.SqliteConnection(
                         BanActors.Storage.LedgerStore.SqliteLedgerConnectionString(Database.Storage.ConnectionString)))
        {
            await ledger.OpenAsync();
            await using var delete = ledger.CreateCommand();
            delete.CommandText = "DELETE FROM ban_ledger";
            Assert.Equal(2, await delete.ExecuteNonQueryAsync());
        }

        await using var after = EngineHost.Start(Database, clock);
        await after.Engine.UnbanAsync(Eve, new BanDetails(Operator: "bob"));
        await AwaitAssertAsync(async () =>
        {
            var log = await after.Engine.GetLogAsync("app1", new BanLogQuery());
            Assert.Equal(
                [
                    new BanLogEntry("eve", BanAction.Unblock, EngineHost.Epoch, Operator: "bob"),
                    new BanLogEntry("eve", BanAction.Block, EngineHost.Epoch, 20, EngineHost.Epoch.AddMinutes(20), "spam", "alice"),
                    new BanLogEntry("u1", BanAction.Block, EngineHost.Epoch, 10, EngineHost.Epoch.AddMinutes(10)),
                ],
                log.Entries);
        }, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task With_a_retention_the_log_drops_entries_older_than_it_on_the_engines_clock_and_keeps_the_rest()
    {
        var clock = EngineHost.NewClock();
        await using var host = EngineHost.Start(Database, clock, o => o.LedgerRetention = TimeSpan.FromDays(2));
        await host.Engine.BanAsync(new UserKey("app1", "old"), 10);
        await AwaitAssertAsync(async () => Assert.Single((await host.Engine.GetLogAsync("app1", new BanLogQuery())).Entries),
            TimeSpan.FromSeconds(10));

        clock.Advance(TimeSpan.FromDays(2) + TimeSpan.FromHours(1));
        await host.Engine.BanAsync(new UserKey("app1", "new"), 10);
        // The purge runs hourly on the engine's clock; each step is one more hour. The old ban and its expiry (at its
        // end time) are both older than the retention; the new ban is not.
        await AwaitAssertAsync(async () =>
        {
            clock.Advance(TimeSpan.FromHours(1));
            var log = await host.Engine.GetLogAsync("app1", new BanLogQuery());
            Assert.DoesNotContain(log.Entries, e => e.UserId == "old");
            Assert.Contains(log.Entries, e => e.UserId == "new" && e.Action == BanAction.Block);
        }, TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(200));
    }
}
