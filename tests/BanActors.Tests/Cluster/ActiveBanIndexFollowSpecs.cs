using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Akka.TestKit;
using BanActors.Bans;
using BanActors.Storage;
using BanActors.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace BanActors.Tests.Cluster;

/// <summary>
/// In a cluster the index cannot rely on notifications alone (DistributedPubSub is at-most-once and a node can die
/// between persisting a ban and publishing it), so it also tails the journal.
/// </summary>
public sealed class ActiveBanIndexFollowSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 8, 0, 0, TimeSpan.Zero);
    private readonly string _folder;

    public ActiveBanIndexFollowSpecs(ITestOutputHelper output) : this(NewFolder(), output) { }

    private ActiveBanIndexFollowSpecs(string folder, ITestOutputHelper output)
        : base(SpecConfig.With(Config(folder)), "index-follow", output) => _folder = folder;

    [Fact]
    public async Task A_ban_that_was_never_announced_is_found_in_the_journal_and_woken_at_its_end()
    {
        var clock = new FakeTimeProvider(Start);
        var bans = CreateTestProbe();
        var index = Sys.ActorOf(ActiveBanIndex.Props(bans.Ref, clock, BanEngineConfig.QueryPluginId));
        await AwaitAssertAsync(async () => Assert.True(await index.Ask<bool>(IsIndexReady.Instance)));

        var user = new UserKey("app1", "silent");
        var until = Start.AddMinutes(10);
        await WriteWithoutNotificationAsync(new UserBanned(user, Start, until));

        await AwaitAssertAsync(async () =>
            Assert.Equal([("silent", until)],
                (await index.Ask<ActiveBanPage>(new ListActiveBans("app1", 0, 0))).Bans.Select(b => (b.UserId, b.Until))));
        clock.Advance(TimeSpan.FromMinutes(10));
        var expire = await bans.ExpectMsgAsync<ExpireBan>();
        Assert.Equal(new ExpireBan(user, until), expire);
    }

    [Fact]
    public async Task A_ban_notification_replayed_after_its_end_is_ignored_by_the_tombstone_not_listed_and_not_woken()
    {
        var clock = new FakeTimeProvider(Start);
        var bans = CreateTestProbe();
        var index = Sys.ActorOf(ActiveBanIndex.Props(bans.Ref, clock, BanEngineConfig.QueryPluginId));
        await AwaitAssertAsync(async () => Assert.True(await index.Ask<bool>(IsIndexReady.Instance)));
        var user = new UserKey("app1", "replayed");
        var until = Start.AddMinutes(1);

        // A notification replayed after the ban had already ended (the BanEnded came first): the tombstone's sequence
        // number is newer, so the replayed start changes nothing, even after its holder stops.
        var holder = CreateTestProbe();
        Sys.EventStream.Publish(new BanEnded(user, until, UnbanCause.Expired, 2));
        Sys.EventStream.Publish(new BanStarted(user, until.AddMinutes(5), 1, holder.Ref));
        Assert.Empty((await index.Ask<ActiveBanPage>(new ListActiveBans("app1", 0, 0))).Bans);
        Sys.Stop(holder.Ref);
        clock.Advance(TimeSpan.FromMinutes(10));
        await bans.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        Assert.Empty((await index.Ask<ExpiryHolders>(GetExpiryHolders.Instance)).HeldByIndex);
    }

    [Fact]
    public async Task An_index_whose_read_journal_cannot_start_stays_alive_and_keeps_trying()
    {
        // Under a startup burst the SQL read journal's constructor can time out; thrown from the index's PreStart,
        // that used to stop the index for good, and with it every timed unban of the node.
        var index = Sys.ActorOf(ActiveBanIndex.Props(CreateTestProbe().Ref, new FakeTimeProvider(Start),
            "akka.persistence.query.journal.not-configured"));
        Watch(index);

        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        Assert.False(await index.Ask<bool>(IsIndexReady.Instance, TimeSpan.FromSeconds(5)));
    }

    private async Task WriteWithoutNotificationAsync(UserBanned banned)
    {
        var journal = Persistence.Instance.Apply(Sys).JournalFor(BanEngineConfig.JournalPluginId);
        var writer = CreateTestProbe();
        var write = new AtomicWrite(new Persistent(new Tagged(banned, new[] { BanTags.Ban }), 1,
            banned.User.PersistenceId, writerGuid: "test"));
        journal.Tell(new WriteMessages(new IPersistentEnvelope[] { write }, writer.Ref, 1), writer.Ref);
        await writer.ExpectMsgAsync<WriteMessagesSuccessful>();
        await writer.ExpectMsgAsync<WriteMessageSuccess>();
    }

    private static string NewFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "banactors-index-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        return folder;
    }

    private static Config Config(string folder)
    {
        var storage = new StorageOptions { ConnectionString = $"Data Source={Path.Combine(folder, "bans.db")}" };
        BanEngineConfig.PrepareStorage(storage);
        return ConfigurationFactory.ParseString("akka.persistence.query.journal.sql.refresh-interval = 100ms")
            .WithFallback(BanEngineConfig.For(storage));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (!disposing) return;
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_folder, recursive: true); }
        catch (IOException) { }
    }
}
