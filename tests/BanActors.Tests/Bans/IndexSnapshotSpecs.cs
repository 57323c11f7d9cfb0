using Akka.Actor;
using BanActors.Bans;
using BanActors.Tests.Support;
using Xunit.Abstractions;

namespace BanActors.Tests.Bans;

/// <summary>
/// The expiry index starts from its newest snapshot and reads only the ban events after the snapshot's offset, so a
/// start does not pay for the whole ban history; what happened after the snapshot, or while the engine was down, still
/// comes out right, and a snapshot that cannot be read means a full rebuild, not a failed start.
/// </summary>
public sealed class IndexSnapshotSpecs(ITestOutputHelper output) : DatabaseSpecs(output)
{
    // A save after every 3 applied changes, with no wait between saves: the trigger without a timer.
    private const string SaveOften = "banactors.expiry-index.snapshot { after-changes = 3, min-interval = 0s }";
    // Starts from the snapshot but never saves one: the events it writes stay after the snapshot's offset.
    private const string LoadOnly = "banactors.expiry-index.snapshot { enabled = off }";
    private const string Rebuild = "banactors.expiry-index.snapshot { enabled = off, load = off }";
    private static readonly string[] StillRunning = ["u2", "u3", "u4"];
    private static UserKey U(string id) => new("app1", id);

    [Fact]
    public async Task The_index_saves_a_snapshot_of_its_running_bans_after_the_configured_changes_and_keeps_only_the_newest()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock(), extraHocon: SaveOften);
        await host.WaitUntilIndexReadyAsync();
        foreach (var id in new[] { "u1", "u2", "u3" }) await host.Engine.BanAsync(U(id), 10);

        await AwaitAssertAsync(() =>
        {
            var snapshot = Assert.Single(StoredSnapshots());
            Assert.Equal(["u1", "u2", "u3"], snapshot.Bans.Select(b => b.User.UserId).Order());
            Assert.Equal(MaxOrdering(), snapshot.Offset);
            Assert.All(snapshot.Bans, b => Assert.Equal(EngineHost.Epoch.AddMinutes(10), b.Until));
        });

        await host.Engine.UnbanAsync(U("u1"));
        foreach (var id in new[] { "u4", "u5" }) await host.Engine.BanAsync(U(id), 20);
        await AwaitAssertAsync(() =>
        {
            var snapshot = Assert.Single(StoredSnapshots());
            Assert.Equal(["u2", "u3", "u4", "u5"], snapshot.Bans.Select(b => b.User.UserId).Order());
            Assert.Equal(MaxOrdering(), snapshot.Offset);
        });
        // On SQLite, with every notice applied, the saves took their offset from the journal's high-water mark
        // instead of reading the events again.
        Assert.True((await LoadReportAsync(host)).SavesFromHighWater >= 2);
    }

    [Fact]
    public async Task A_restart_loads_the_snapshot_then_applies_the_ban_the_unban_and_the_re_ban_written_after_it()
    {
        var clock = EngineHost.NewClock();
        await using (var first = EngineHost.Start(Database, clock, extraHocon: SaveOften))
        {
            await first.WaitUntilIndexReadyAsync();
            foreach (var id in new[] { "u1", "u2", "u3" }) await first.Engine.BanAsync(U(id), 10);
            await AwaitAssertAsync(() => Assert.Equal(3, Assert.Single(StoredSnapshots()).Bans.Count));
        }
        var snapshotOffset = Assert.Single(StoredSnapshots()).Offset;

        // Written after the snapshot, by an engine that saves none: an unban, a re-ban with a new end, a new ban.
        await using (var second = EngineHost.Start(Database, clock, extraHocon: LoadOnly))
        {
            await second.WaitUntilIndexReadyAsync();
            await second.Engine.UnbanAsync(U("u1"));
            await second.Engine.UnbanAsync(U("u2"));
            await second.Engine.BanAsync(U("u2"), 30);
            await second.Engine.BanAsync(U("u4"), 20, new BanDetails("spam", "alice"));
        }
        Assert.Equal(snapshotOffset, Assert.Single(StoredSnapshots()).Offset);

        await using var host = EngineHost.Start(Database, clock, extraHocon: LoadOnly);
        await host.WaitUntilIndexReadyAsync();
        var load = await LoadReportAsync(host);
        Assert.Equal(snapshotOffset, load.SnapshotOffset);
        Assert.Equal(3, load.SnapshotBans);
        Assert.Equal(4, load.EventsRead);

        var listed = (await host.Engine.ListActiveAsync("app1", 0, 0)).Bans;
        Assert.Equal(
            [("u2", EngineHost.Epoch.AddMinutes(30)), ("u4", EngineHost.Epoch.AddMinutes(20)), ("u3", EngineHost.Epoch.AddMinutes(10))],
            listed.Select(b => (b.UserId, b.Until)));
        var u4 = listed.Single(b => b.UserId == "u4");
        Assert.Equal(("spam", "alice"), (u4.Reason, u4.Operator));

        // The wake-ups came from the snapshot and the tail alike: each ban is lifted at its end.
        clock.Advance(TimeSpan.FromMinutes(31));
        await AwaitAssertAsync(async () =>
        {
            Assert.Empty((await host.Engine.ListActiveAsync("app1", 0, 0)).Bans);
            foreach (var id in StillRunning)
                Assert.Equal(UnbanCause.Expired, (await host.StoredEventsAsync(U(id))).OfType<UserUnbanned>().Last().Cause);
        });
    }

    [Fact]
    public async Task A_ban_that_ended_while_the_engine_was_down_is_expired_after_a_restart_from_the_snapshot()
    {
        var clock = EngineHost.NewClock();
        await using (var first = EngineHost.Start(Database, clock, extraHocon: SaveOften))
        {
            await first.WaitUntilIndexReadyAsync();
            await first.Engine.BanAsync(U("short"), 10);
            await first.Engine.BanAsync(U("long"), 60);
            await first.Engine.BanAsync(U("other"), 60);
            await AwaitAssertAsync(() => Assert.Equal(3, Assert.Single(StoredSnapshots()).Bans.Count));
        }

        clock.Advance(TimeSpan.FromMinutes(11));
        await using var host = EngineHost.Start(Database, clock, extraHocon: LoadOnly);
        await host.WaitUntilIndexReadyAsync();
        Assert.NotNull((await LoadReportAsync(host)).SnapshotOffset);
        await AwaitAssertAsync(async () =>
        {
            var unbanned = Assert.Single((await host.StoredEventsAsync(U("short"))).OfType<UserUnbanned>());
            Assert.Equal((UnbanCause.Expired, EngineHost.Epoch.AddMinutes(10)), (unbanned.Cause, unbanned.At));
            Assert.Equal(["long", "other"], (await host.Engine.ListActiveAsync("app1", 0, 0)).Bans.Select(b => b.UserId).Order());
        });
        Assert.Empty((await host.StoredEventsAsync(U("long"))).OfType<UserUnbanned>());
    }

    [Fact]
    public async Task A_graceful_stop_saves_what_changed_since_the_last_snapshot()
    {
        var clock = EngineHost.NewClock();
        await using (var first = EngineHost.Start(Database, clock))
        {
            await first.WaitUntilIndexReadyAsync();
            await first.Engine.BanAsync(U("u1"), 10);
            await first.Engine.BanAsync(U("u2"), 10);
            Assert.Empty(StoredSnapshots());
        }
        var snapshot = Assert.Single(StoredSnapshots());
        Assert.Equal(["u1", "u2"], snapshot.Bans.Select(b => b.User.UserId).Order());

        await using var host = EngineHost.Start(Database, clock);
        await host.WaitUntilIndexReadyAsync();
        Assert.Equal(new IndexLoadReport(snapshot.Offset, 2, 0, 0), await LoadReportAsync(host));
        Assert.Equal(2, (await host.Engine.ListActiveAsync("app1", 0, 0)).Bans.Count);
    }

    [Fact]
    public async Task A_damaged_snapshot_falls_back_to_a_full_rebuild_and_the_start_goes_on()
    {
        var clock = EngineHost.NewClock();
        await using (var first = EngineHost.Start(Database, clock, extraHocon: SaveOften))
        {
            await first.WaitUntilIndexReadyAsync();
            foreach (var id in new[] { "u1", "u2", "u3" }) await first.Engine.BanAsync(U(id), 10);
            await AwaitAssertAsync(() => Assert.Single(StoredSnapshots()));
        }
        // One byte of the stored bans flipped: the hash no longer matches.
        var blob = SnapshotBlob();
        blob[blob.Length / 2] ^= 0x40;
        Database.Execute($"UPDATE snapshot SET payload = X'{Convert.ToHexString(blob)}' WHERE persistence_id = '{IndexSnapshotSettings.DefaultPersistenceId}'");

        await using var host = EngineHost.Start(Database, clock, extraHocon: LoadOnly);
        await host.WaitUntilIndexReadyAsync();
        var load = await LoadReportAsync(host);
        Assert.Null(load.SnapshotOffset);
        Assert.Equal(3, load.EventsRead);
        Assert.Equal(["u1", "u2", "u3"], (await host.Engine.ListActiveAsync("app1", 0, 0)).Bans.Select(b => b.UserId).Order());
    }

    [Fact]
    public async Task A_journal_without_a_snapshot_is_rebuilt_from_the_start_as_before()
    {
        var clock = EngineHost.NewClock();
        await using (var first = EngineHost.Start(Database, clock, extraHocon: Rebuild))
        {
            await first.WaitUntilIndexReadyAsync();
            await first.Engine.BanAsync(U("u1"), 10);
            await first.Engine.BanAsync(U("u2"), 10);
            await first.Engine.UnbanAsync(U("u2"));
        }
        Assert.Empty(StoredSnapshots());

        await using var host = EngineHost.Start(Database, clock, extraHocon: LoadOnly);
        await host.WaitUntilIndexReadyAsync();
        Assert.Equal(new IndexLoadReport(null, 0, 3, 0), await LoadReportAsync(host));
        Assert.Equal(["u1"], (await host.Engine.ListActiveAsync("app1", 0, 0)).Bans.Select(b => b.UserId));
    }

    [Fact]
    public void The_snapshot_format_round_trips_and_refuses_damaged_bytes()
    {
        var serializer = new BanEventSerializer((ExtendedActorSystem)Sys);
        var snapshot = new IndexSnapshot(1234,
        [
            new(new UserKey("app1", "dävé-😀"), EngineHost.Epoch.AddDays(30), 7, EngineHost.Epoch, "spam \"links\"", "alice"),
            new(new UserKey("app2", "u2"), EngineHost.Epoch.AddMinutes(1), 1, null, null, null),
            new(new UserKey("app1", "u3"), EngineHost.Epoch.AddMinutes(2), long.MaxValue / 3, EngineHost.Epoch, null, "bot"),
        ]);
        var bytes = serializer.ToBinary(snapshot);
        var back = Assert.IsType<IndexSnapshot>(serializer.FromBinary(bytes, serializer.Manifest(snapshot)));
        Assert.Equal(snapshot.Offset, back.Offset);
        Assert.Equal(snapshot.Bans, back.Bans);

        for (var i = 0; i < bytes.Length; i += 5)
        {
            var damaged = (byte[])bytes.Clone();
            damaged[i] ^= 0x01;
            Assert.ThrowsAny<Exception>(() => serializer.FromBinary(damaged, serializer.Manifest(snapshot)));
        }
        Assert.ThrowsAny<Exception>(() => serializer.FromBinary(bytes[..^1], serializer.Manifest(snapshot)));
    }

    private static Task<IndexLoadReport> LoadReportAsync(EngineHost host) =>
        host.Engine.Actors.Index.Ask<IndexLoadReport>(GetIndexLoadReport.Instance, TimeSpan.FromSeconds(10));

    private long MaxOrdering() => Database.Scalar("SELECT COALESCE(MAX(ordering), 0) FROM event_journal");

    private byte[] SnapshotBlob() => Database.Rows(
        $"SELECT payload FROM snapshot WHERE persistence_id = '{IndexSnapshotSettings.DefaultPersistenceId}'",
        r => (byte[])r[0]).Single();

    private List<IndexSnapshot> StoredSnapshots()
    {
        var serializer = new BanEventSerializer((ExtendedActorSystem)Sys);
        return Database.Rows(
                $"SELECT payload, manifest FROM snapshot WHERE persistence_id = '{IndexSnapshotSettings.DefaultPersistenceId}'",
                r => (Bytes: (byte[])r[0], Manifest: r.GetString(1)))
            .Select(row => (IndexSnapshot)serializer.FromBinary(row.Bytes, row.Manifest))
            .ToList();
    }
}
