using BanActors.Bans;
using BanActors.Storage;
using BanActors.Testing;
using BanActors.Tests.Shared;

namespace BanActors.Tests.Storage;

/// <summary>
/// One node on PostgreSQL (the standalone server with <c>Storage:Provider = PostgreSql</c>): the journal and the
/// snapshot store read their tables' ids there too, answer new users from memory, and users with events continue
/// their sequence numbers after a restart.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class KnownIdsPostgresSpecs(PostgresServer postgres)
{
    [SkippableFact]
    public async Task On_postgresql_new_users_start_without_a_query_and_users_with_events_continue_theirs()
    {
        postgres.RequireOrSkip();
        var storage = await postgres.CreateStorageAsync("known_ids");
        var clock = EngineHost.NewClock();
        var old = Enumerable.Range(0, 20).Select(i => new UserKey("known", $"old{i}")).ToList();
        await using (var first = EngineHost.Start(storage, clock))
        {
            await Task.WhenAll(old.Select(u => first.Engine.BanAsync(u, 10)));
        }

        await using var second = EngineHost.Start(storage, clock);
        await second.Engine.GetStatusAsync(new UserKey("known", "starts-the-journal"));
        await MetricRecorder.EventuallyAsync(() => KnownIds.OfJournal(second.System) is { Complete: true }, "the journal's ids read");
        var journal = KnownIds.OfJournal(second.System)!;
        var before = journal.Answered;
        var fresh = Enumerable.Range(0, 20).Select(i => new UserKey("known", $"new{i}")).ToList();

        var answers = await Task.WhenAll(fresh.Concat(old).Select(u => second.Engine.BanAsync(u, 60)));
        var history = await second.Engine.GetHistoryAsync(old[0]);

        Assert.All(answers, a => Assert.Equal(EngineHost.Epoch.AddMinutes(60), a.Until));
        Assert.Equal(fresh.Count, journal.Answered - before);
        Assert.Equal(2, history.Entries.Count);
    }
}
