using System.Diagnostics;
using BanActors.Bans;
using BanActors.Tests.Support;
using Xunit.Abstractions;

namespace BanActors.Tests.Bans;

public sealed class BurstSpecs : DatabaseSpecs
{
    private readonly ITestOutputHelper _output;

    public BurstSpecs(ITestOutputHelper output) : base(output) => _output = output;

    [Fact]
    public async Task Ten_thousand_concurrent_bans_of_distinct_users_are_all_acknowledged_and_durable_after_a_restart()
    {
        const int users = 10_000;
        var clock = EngineHost.NewClock();
        var watch = Stopwatch.StartNew();
        await using (var host = EngineHost.Start(Database, clock, o => o.AskTimeout = TimeSpan.FromMinutes(3)))
        {
            var bans = Enumerable.Range(0, users)
                .Select(i => host.Engine.BanAsync(new UserKey("burst", $"user-{i}"), 60))
                .ToList();
            var accepted = await Task.WhenAll(bans);
            Assert.Equal(users, accepted.Length);
            Assert.All(accepted, a => Assert.Equal(EngineHost.Epoch.AddMinutes(60), a.Until));
        }
        _output.WriteLine($"{users} concurrent bans acknowledged in {watch.Elapsed.TotalSeconds:0.0} s " +
                         $"({users / watch.Elapsed.TotalSeconds:0} bans/s, including start and shutdown)");

        Assert.Equal(users, Database.Scalar("SELECT COUNT(DISTINCT persistence_id) FROM event_journal"));

        watch.Restart();
        await using var restarted = EngineHost.Start(Database, clock);
        await restarted.WaitUntilIndexReadyAsync();
        _output.WriteLine($"index of {users} running bans rebuilt in {watch.Elapsed.TotalSeconds:0.0} s after restart");
        var listed = new HashSet<string>();
        for (var page = 1; page <= 11; page++)
            foreach (var ban in (await restarted.Engine.ListActiveAsync("burst", page, 1000)).Bans)
                listed.Add(ban.UserId);
        Assert.Equal(users, listed.Count);
        Assert.True((await restarted.Engine.GetStatusAsync(new UserKey("burst", "user-4242"))).IsBanned);
    }

}
