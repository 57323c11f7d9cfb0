using Akka.Actor;
using BanActors.Bans;
using BanActors.Tests.Support;
using Xunit.Abstractions;

namespace BanActors.Tests.Bans;

public sealed class WriteGateSpecs(ITestOutputHelper output) : DatabaseSpecs(output)
{
    [Fact]
    public async Task No_more_holders_than_permits_and_a_release_or_a_stop_lets_the_next_one_in()
    {
        var gate = Sys.ActorOf(WriteGate.Props(2));
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        var third = CreateTestProbe();
        var fourth = CreateTestProbe();

        gate.Tell(AcquireWritePermit.Instance, first.Ref);
        gate.Tell(AcquireWritePermit.Instance, second.Ref);
        gate.Tell(AcquireWritePermit.Instance, third.Ref);
        gate.Tell(AcquireWritePermit.Instance, fourth.Ref);
        await first.ExpectMsgAsync<WritePermitGranted>();
        await second.ExpectMsgAsync<WritePermitGranted>();
        await third.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
        Assert.Equal(new WriteGateState(2, 2), await gate.Ask<WriteGateState>(GetWriteGateState.Instance, TimeSpan.FromSeconds(3)));

        gate.Tell(ReleaseWritePermit.Instance, first.Ref);
        await third.ExpectMsgAsync<WritePermitGranted>();
        await fourth.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));

        // A holder that stops without releasing gives its permit back.
        Sys.Stop(second.Ref);
        await fourth.ExpectMsgAsync<WritePermitGranted>();
    }

    [Fact]
    public async Task A_writer_watched_since_its_first_write_still_gives_its_permit_back_when_it_stops_holding_a_later_one()
    {
        var gate = Sys.ActorOf(WriteGate.Props(1));
        var writer = CreateTestProbe();
        var next = CreateTestProbe();

        // Two writes of one live actor (a ban, then its re-ban or expiry): the gate watches it once, for its lifetime.
        for (var write = 0; write < 2; write++)
        {
            gate.Tell(AcquireWritePermit.Instance, writer.Ref);
            await writer.ExpectMsgAsync<WritePermitGranted>();
            if (write == 0) gate.Tell(ReleaseWritePermit.Instance, writer.Ref);
        }
        gate.Tell(AcquireWritePermit.Instance, next.Ref);
        await next.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));

        Sys.Stop(writer.Ref);
        await next.ExpectMsgAsync<WritePermitGranted>();
    }

    [Fact]
    public async Task Many_live_actors_whose_bans_end_together_all_record_their_expiry_without_a_failed_write()
    {
        const int users = 2_000;
        await using var host = EngineHost.Start(Database, EngineHost.NewClock(), o => o.MaxConcurrentWrites = 8);
        await Task.WhenAll(Enumerable.Range(0, users).Select(i => host.Engine.BanAsync(new UserKey("herd", $"u{i}"), 5)));
        Assert.Equal(users, await host.LiveUserActorsAsync());

        host.Clock.Advance(TimeSpan.FromMinutes(5));

        await AwaitAssertAsync(() => Assert.Equal(users, CountExpiries()), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50));
        // Every actor survived: a failed write would have stopped it.
        Assert.Equal(users, await host.LiveUserActorsAsync());
        Assert.Empty((await host.Engine.ListActiveAsync("herd", 0, 50)).Bans);
    }

    private long CountExpiries() => Database.Scalar("SELECT COUNT(*) FROM event_journal WHERE manifest = 'UU2'");

}
