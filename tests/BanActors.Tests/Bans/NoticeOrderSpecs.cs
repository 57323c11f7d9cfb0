using System.Collections.Concurrent;
using Akka.Actor;
using BanActors.Bans;
using BanActors.Storage;
using BanActors.Tests.Support;
using Xunit.Abstractions;

namespace BanActors.Tests.Bans;

/// <summary>
/// A ban or unban is announced to the node (index, connection registry) before it is answered, so whatever the
/// caller asks next — the block list right after an unblock, "is this user online" right after a ban — already
/// reflects it. Each notice records whether the answer had already reached the caller when it was published.
/// </summary>
public sealed class NoticeOrderSpecs(ITestOutputHelper output) : DatabaseSpecs(output)
{
    [Fact]
    public async Task A_ban_and_an_unban_are_announced_before_they_are_answered()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        var caller = CreateTestProbe(host.System);
        var notices = new ConcurrentQueue<(object Notice, bool AnsweredAlready)>();
        var settings = new UserBanActorSettings(host.Clock,
            notice => notices.Enqueue((notice, caller.HasMessages)), TimeSpan.FromMinutes(2), stop => stop,
            JournalPluginId: BanEngineConfig.JournalPluginId, SnapshotPluginId: BanEngineConfig.SnapshotPluginId);
        var user = new UserKey("order", "alice");
        var actor = host.System.ActorOf(UserBanActor.Props(user, settings));

        actor.Tell(new BanUser(user, 10), caller.Ref);
        await caller.ExpectMsgAsync<BanAccepted>();
        actor.Tell(new UnbanUser(user), caller.Ref);
        await caller.ExpectMsgAsync<UnbanAccepted>();

        Assert.Collection(notices,
            n => Assert.Equal((typeof(BanStarted), false), (n.Notice.GetType(), n.AnsweredAlready)),
            n => Assert.Equal((typeof(BanEnded), false), (n.Notice.GetType(), n.AnsweredAlready)));
    }

}
