using BanActors.Bans;
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

    private Dictionary<string, long[]> SequenceNumbers() =>
        Database.Rows("SELECT persistence_id, sequence_nr FROM event_journal ORDER BY persistence_id, sequence_nr",
                r => (Id: r.GetString(0), Seq: r.GetInt64(1)))
            .GroupBy(r => r.Id).ToDictionary(g => g.Key, g => g.Select(r => r.Seq).ToArray());

}
