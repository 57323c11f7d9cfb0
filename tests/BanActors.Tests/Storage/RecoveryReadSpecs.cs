using BanActors.Bans;
using BanActors.Storage;
using BanActors.Testing;
using BanActors.Tests.Support;
using Xunit.Abstractions;

namespace BanActors.Tests.Storage;

/// <summary>
/// The engine's journal and snapshot store answer the recovery reads of many starting actors with one query
/// (BanJournal, BanSnapshotStore). These specs start many actors at once, with and without history, and check that
/// each one recovered its own state: a wrong "highest sequence number" would make the next write collide with a
/// stored event (and fail), a wrong "no snapshot" would lose state that only the snapshot holds.
/// </summary>
public sealed class RecoveryReadSpecs(ITestOutputHelper output) : DatabaseSpecs(output)
{
    [Fact]
    public async Task Actors_started_together_each_continue_their_own_sequence_numbers()
    {
        var clock = EngineHost.NewClock();
        var users = Enumerable.Range(0, 300).Select(i => new UserKey("seq", $"u{i}")).ToList();
        await using (var first = EngineHost.Start(Database, clock))
        {
            // Users with 0, 1, 2 and 3 events.
            for (var round = 1; round <= 3; round++)
                await Task.WhenAll(users.Where((_, i) => i % 4 >= round).Select(u => first.Engine.BanAsync(u, 10 * round)));
        }

        await using var second = EngineHost.Start(Database, clock);
        var answers = await Task.WhenAll(users.Select(u => second.Engine.BanAsync(u, 60)));

        Assert.All(answers, a => Assert.Equal(EngineHost.Epoch.AddMinutes(60), a.Until));
        var stored = SequenceNumbers();
        for (var i = 0; i < users.Count; i++)
            Assert.Equal(Enumerable.Range(1, i % 4 + 1).Select(n => (long)n), stored[users[i].PersistenceId]);
    }

    [Fact]
    public async Task A_state_that_only_a_snapshot_holds_is_recovered_next_to_users_without_snapshots()
    {
        var clock = EngineHost.NewClock();
        var keeper = new UserKey("snap", "keeper");
        DateTimeOffset until;
        await using (var first = EngineHost.Start(Database, clock, o => o.SnapshotEvery = 1))
        {
            until = (await first.Engine.BanAsync(keeper, 45)).Until;
            await AwaitAssertAsync(() => Assert.Equal(1, Database.Scalar("SELECT COUNT(*) FROM snapshot")));
        }
        // The event is gone from the journal; only the snapshot knows the ban.
        Database.Execute($"DELETE FROM event_journal WHERE persistence_id = '{keeper.PersistenceId}'");

        await using var second = EngineHost.Start(Database, clock);
        var others = Enumerable.Range(0, 200).Select(i => second.Engine.GetStatusAsync(new UserKey("snap", $"n{i}")));
        var statuses = await Task.WhenAll(others.Append(second.Engine.GetStatusAsync(keeper)));

        Assert.All(statuses[..^1], s => Assert.False(s.IsBanned));
        Assert.True(statuses[^1].IsBanned);
        Assert.Equal(until, statuses[^1].Until);
    }

    [Fact]
    public async Task Once_the_ids_are_read_new_users_start_without_a_query_and_users_with_history_continue_theirs()
    {
        var clock = EngineHost.NewClock();
        var old = Enumerable.Range(0, 120).Select(i => new UserKey("known", $"old{i}")).ToList();
        var keeper = new UserKey("known", "keeper");
        await using (var first = EngineHost.Start(Database, clock, o => o.SnapshotEvery = 2))
        {
            // Users with 1, 2 and 3 events; the keeper's two events leave it a snapshot.
            for (var round = 1; round <= 3; round++)
                await Task.WhenAll(old.Where((_, i) => i % 3 >= round - 1).Select(u => first.Engine.BanAsync(u, 10 * round)));
            await first.Engine.BanAsync(keeper, 5);
            await first.Engine.BanAsync(keeper, 6);
            await AwaitAssertAsync(() => Assert.Equal(1, Database.Scalar(
                $"SELECT COUNT(*) FROM snapshot WHERE persistence_id = '{keeper.PersistenceId}'")));
        }
        // The snapshot alone knows the keeper's ban: a recovery that skipped it would find the user never banned.
        Database.Execute($"DELETE FROM event_journal WHERE persistence_id = '{keeper.PersistenceId}'");
        // Snapshots are saved after the write is answered: the first engine may have stopped before some were.
        var withSnapshot = Database.Rows("SELECT DISTINCT persistence_id FROM snapshot", r => r.GetString(0)).ToHashSet();

        await using var second = EngineHost.Start(Database, clock);
        await second.WaitUntilIndexReadyAsync();
        await second.Engine.GetStatusAsync(new UserKey("known", "starts-the-journal"));
        await MetricRecorder.EventuallyAsync(() => KnownIds.OfJournal(second.System) is { Complete: true }
            && KnownIds.OfSnapshotStore(second.System) is { Complete: true }, "the journal's and the snapshot store's ids read");
        var (journal, snapshots) = (KnownIds.OfJournal(second.System)!, KnownIds.OfSnapshotStore(second.System)!);
        var (journalBefore, snapshotsBefore) = (journal.Answered, snapshots.Answered);

        var fresh = Enumerable.Range(0, 100).Select(i => new UserKey("known", $"new{i}")).ToList();
        var answers = await Task.WhenAll(fresh.Concat(old).Select(u => second.Engine.BanAsync(u, 60)));
        var keeperStatus = await second.Engine.GetStatusAsync(keeper);

        Assert.All(answers, a => Assert.Equal(EngineHost.Epoch.AddMinutes(60), a.Until));
        var stored = SequenceNumbers();
        Assert.All(fresh, u => Assert.Equal([1L], stored[u.PersistenceId]));
        for (var i = 0; i < old.Count; i++)
            Assert.Equal(Enumerable.Range(1, i % 3 + 2).Select(n => (long)n), stored[old[i].PersistenceId]);
        Assert.True(keeperStatus.IsBanned, "the keeper's snapshot was read");
        // Every new user was answered from memory, both reads; no user with events was by the journal, and no user
        // with a snapshot by the snapshot store.
        Assert.Equal(fresh.Count, journal.Answered - journalBefore);
        Assert.Equal(fresh.Count + old.Count(u => !withSnapshot.Contains(u.PersistenceId)), snapshots.Answered - snapshotsBefore);
        Assert.True(withSnapshot.Count > 1, "users with two events or more have snapshots");
    }

    private Dictionary<string, long[]> SequenceNumbers() =>
        Database.Rows("SELECT persistence_id, sequence_nr FROM event_journal ORDER BY persistence_id, sequence_nr",
                r => (Id: r.GetString(0), Seq: r.GetInt64(1)))
            .GroupBy(r => r.Id).ToDictionary(g => g.Key, g => g.Select(r => r.Seq).ToArray());

}
