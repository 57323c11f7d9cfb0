using Akka.Configuration;
using BanActors.Bans;
using BanActors.Cluster;
using BanActors.Messaging;
using BanActors.Sessions;
using BanActors.Storage;
using Xunit.Abstractions;

namespace BanActors.Tests.Cluster;

/// <summary>
/// Every message that crosses nodes is bound to <see cref="BanMessageSerializer"/> by cluster.conf (not left to the
/// reflection-based default) and comes back equal.
/// </summary>
public sealed class BanMessageSerializerSpecs(ITestOutputHelper output)
    : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString("akka.actor.provider = local")
        .WithFallback(ClusterTopology.Config(new BanClusterOptions())).WithFallback(BanEngineConfig.For(new StorageOptions())),
        "serializer", output)
{
    private static readonly UserKey User = new("app1", "user:with/odd%chars-ü");
    private static readonly DateTimeOffset At = new(2026, 11, 26, 10, 28, 20, TimeSpan.Zero);

    private static readonly UserMessage Message = new("ABCD-EFGH-IJKL-MN23", User, "bob/ü", "RC:TxtMsg",
        """{"content":"hi \"there\" 😀"}""", "you have a message", """{"k":1}""", At.AddMilliseconds(123));

    public static TheoryData<object> CrossNodeMessages() => new()
    {
        User,
        new BanUser(User, 43_200),
        new UnbanUser(User),
        new GetBanStatus(User),
        new ExpireBan(User, At),
        new BanAccepted(User, At),
        new BanRejected(User, "minute must be between 1 and 43200"),
        new UnbanAccepted(User, true),
        new BanCommandFailed(User, "the journal could not store the change"),
        new BanStatus(User, true, At),
        new BanStatus(User, false, null),
        new ExpiryHandled(User, At),
        new BanEnded(User, At, UnbanCause.Expired, 43),
        new ListActiveBans("app1", 2, 50),
        new GetOnlineStatus(User),
        new OnlineStatus(User, true, 2),
        Message,
        Message with { PushContent = null, PushData = null, Content = "" },
        new DeliverToUser(Message),
        new MessageDelivered(User, 3),
        new KeptMessagesAvailable(User),
    };

    [Theory]
    [MemberData(nameof(CrossNodeMessages))]
    public void A_cross_node_message_uses_the_binary_serializer_and_round_trips(object message) => RoundTrips(message);

    [Fact]
    public void A_notice_that_names_the_actor_holding_the_expiry_timer_round_trips_with_that_actor()
    {
        RoundTrips(new BanStarted(User, At, 42, TestActor));
        RoundTrips(new ExpiryTaken(User, At, TestActor));
    }

    private void RoundTrips(object message)
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        Assert.IsType<BanMessageSerializer>(serializer);
        var bytes = serializer.ToBinary(message);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        Assert.Equal(message, Sys.Serialization.Deserialize(bytes, serializer.Identifier, manifest));
    }

    [Fact]
    public void Journal_events_keep_their_own_serializer_in_cluster_mode()
    {
        var banned = new UserBanned(User, At, At.AddMinutes(5));
        var serializer = Assert.IsType<BanEventSerializer>(Sys.Serialization.FindSerializerFor(banned));
        Assert.Equal(banned, serializer.FromBinary(serializer.ToBinary(banned), serializer.Manifest(banned)));
    }

    [Fact]
    public void A_page_of_running_bans_round_trips()
    {
        var page = new ActiveBanPage([new ActiveBan("u1", At), new ActiveBan("u2", At.AddMinutes(-1))]);
        var serializer = Assert.IsType<BanMessageSerializer>(Sys.Serialization.FindSerializerFor(page));
        var back = Assert.IsType<ActiveBanPage>(serializer.FromBinary(serializer.ToBinary(page), serializer.Manifest(page)));
        Assert.Equal(page.Bans, back.Bans);
    }

    [Fact]
    public void The_index_readiness_question_stays_a_singleton()
    {
        var serializer = Assert.IsType<BanMessageSerializer>(Sys.Serialization.FindSerializerFor(IsIndexReady.Instance));
        Assert.Same(IsIndexReady.Instance,
            serializer.FromBinary(serializer.ToBinary(IsIndexReady.Instance), serializer.Manifest(IsIndexReady.Instance)));
    }
}

public sealed class UserMessageExtractorSpecs
{
    [Theory]
    [InlineData("app1", "alice")]
    [InlineData("app.2", "a:b/c%d e")]
    [InlineData("app_3", "用户-😀")]
    public void An_entity_id_turns_back_into_its_user(string app, string userId)
    {
        var user = new UserKey(app, userId);
        var entityId = user.EntityId;
        Assert.DoesNotContain('/', entityId);
        Assert.Equal(user, UserKey.FromEntityId(entityId));
    }

    [Fact]
    public void Every_user_message_is_routed_to_one_of_the_fixed_shards_by_its_user()
    {
        var extractor = new UserMessageExtractor(100);
        var user = new UserKey("app1", "alice");
        var entityId = extractor.EntityId(new BanUser(user, 5));
        Assert.Equal(user.EntityId, entityId);
        Assert.Equal(entityId, extractor.EntityId(new ExpireBan(user, DateTimeOffset.UnixEpoch)));
        var shards = Enumerable.Range(0, 1000)
            .Select(i => int.Parse(extractor.ShardId(new UserKey("app1", $"u{i}").EntityId, null)))
            .ToList();
        Assert.All(shards, s => Assert.InRange(s, 0, 99));
        Assert.True(shards.Distinct().Count() > 90, "users spread over the shards");
        Assert.Null(extractor.EntityId("not a user message"));
    }
}
