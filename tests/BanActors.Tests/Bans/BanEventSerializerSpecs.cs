using Akka.Actor;
using BanActors.Bans;
using BanActors.Tests.Support;
using Xunit.Abstractions;

namespace BanActors.Tests.Bans;

public sealed class BanEventSerializerSpecs(ITestOutputHelper output) : DatabaseSpecs(output)
{
    private static readonly UserKey Dave = new("app1", "dävé-😀");
    public static TheoryData<object> Events => new()
    {
        new UserBanned(Dave, EngineHost.Epoch, EngineHost.Epoch.AddMinutes(43_200)),
        new UserBanned(Dave, EngineHost.Epoch, EngineHost.Epoch.AddMinutes(10), "spam \"links\" 😀", "alice"),
        new UserBanned(Dave, EngineHost.Epoch, EngineHost.Epoch.AddMinutes(10), null, "bot"),
        new UserUnbanned(Dave, EngineHost.Epoch, UnbanCause.Expired),
        new UserUnbanned(Dave, EngineHost.Epoch, UnbanCause.Manual),
        new UserUnbanned(Dave, EngineHost.Epoch, UnbanCause.Manual, "appeal", "bob"),
        new BanSnapshot(Dave, new UserBanned(Dave, EngineHost.Epoch, EngineHost.Epoch.AddMinutes(5), "r", "o")),
        new BanSnapshot(Dave, null),
    };

    [Theory]
    [MemberData(nameof(Events))]
    public void Events_round_trip_through_the_versioned_binary_format(object @event)
    {
        var serializer = new BanEventSerializer((ExtendedActorSystem)Sys);
        var bytes = serializer.ToBinary(@event);
        Assert.Equal(@event, serializer.FromBinary(bytes, serializer.Manifest(@event)));
    }

    [Fact]
    public void A_version_one_event_written_today_reads_back_forever()
    {
        // Bytes of UserBanned("app1","u1", 2026-11-26T10:00Z, +10 min) in format UB1; must never change meaning.
        var bytes = Convert.FromHexString("046170703102753100D08B08A44BDF08008C2C6EA54BDF08");
        var serializer = new BanEventSerializer((ExtendedActorSystem)Sys);
        var banned = Assert.IsType<UserBanned>(serializer.FromBinary(bytes, "UB1"));
        Assert.Equal(new UserKey("app1", "u1"), banned.User);
        Assert.Equal(EngineHost.Epoch, banned.At);
        Assert.Equal(EngineHost.Epoch.AddMinutes(10), banned.Until);
        Assert.Null(banned.Reason);
        Assert.Null(banned.Operator);
    }

    [Fact]
    public void A_version_one_unban_and_snapshot_read_back_without_ledger_fields()
    {
        var serializer = new BanEventSerializer((ExtendedActorSystem)Sys);
        var user = new UserKey("app1", "u1");
        // UU1: user, at, cause; BS1: user, banned flag, until ticks. Written by hand as the old format wrote them.
        var unban = Convert.FromHexString("046170703102753100D08B08A44BDF0802");
        Assert.Equal(new UserUnbanned(user, EngineHost.Epoch, UnbanCause.Manual), serializer.FromBinary(unban, "UU1"));
        var snapshot = Convert.FromHexString("04617070310275310100D08B08A44BDF08");
        var read = Assert.IsType<BanSnapshot>(serializer.FromBinary(snapshot, "BS1"));
        Assert.Equal(EngineHost.Epoch, read.Ban!.Until);
    }

    [Fact]
    public async Task The_journal_stores_events_with_the_ban_serializer_and_a_version_manifest_not_a_clr_type_name()
    {
        await using (var host = EngineHost.Start(Database, EngineHost.NewClock()))
        {
            await host.Engine.BanAsync(Dave, 5);
            await host.Engine.UnbanAsync(Dave);
        }

        var rows = Database.Rows("SELECT serializer_id, manifest, tags FROM event_journal ORDER BY ordering",
            r => (r.GetInt64(0), r.GetString(1), r.GetString(2)));
        Assert.Equal(2, rows.Count);
        Assert.Equal((BanEventSerializer.SerializerId, "UB2"), (rows[0].Item1, rows[0].Item2));
        Assert.Equal((BanEventSerializer.SerializerId, "UU2"), (rows[1].Item1, rows[1].Item2));
        Assert.All(rows, r => Assert.Contains("ban", r.Item3));
    }

}
