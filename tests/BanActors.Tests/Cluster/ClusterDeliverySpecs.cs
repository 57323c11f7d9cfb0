using System.Collections.Concurrent;
using Akka.Actor;
using BanActors.Bans;
using BanActors.Cluster;
using BanActors.Messaging;
using BanActors.Sessions;
using BanActors.Tests.Shared;
using BanActors.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace BanActors.Tests.Cluster;

/// <summary>
/// Live messages and kept-message notices reach a user's sessions on whichever node they connected to. The specs of
/// this class share one three-node cluster (started by the first of them), each with its own users.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterDeliverySpecs : Akka.TestKit.Xunit2.TestKit, IClassFixture<ClusterDeliverySpecs.SharedCluster>
{
    private const string App = "app1";
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 8, 0, 0, TimeSpan.Zero);
    private readonly PostgresServer _postgres;
    private readonly SharedCluster _cluster;
    private readonly ITestOutputHelper _output;

    public ClusterDeliverySpecs(PostgresServer postgres, SharedCluster cluster, ITestOutputHelper output)
        : base(SpecConfig.With("akka.loglevel = WARNING"), output: output)
    {
        _postgres = postgres;
        _cluster = cluster;
        _output = output;
    }

    [SkippableFact]
    public async Task A_message_published_through_one_node_reaches_the_session_on_another()
    {
        var (node1, node2, node3) = await ClusterAsync();
        var user = new UserKey(App, "carol");
        var onNode3 = new RecordingSession("carol-on-node3");
        Assert.True((await node3.Engine.RegisterSessionAsync(user, onNode3)).IsAccepted);

        var first = MessageTo(user, "hello");
        Assert.Equal(1, await node1.Engine.DeliverAsync(first));
        Assert.Equal([first], onNode3.Delivered);

        // A second device on node 2: both sessions take the next message, and the counts of the nodes add up.
        var onNode2 = new RecordingSession("carol-on-node2");
        Assert.True((await node2.Engine.RegisterSessionAsync(user, onNode2)).IsAccepted);
        var second = MessageTo(user, "again");
        Assert.Equal(2, await node1.Engine.DeliverAsync(second));
        Assert.Equal([first, second], onNode3.Delivered);
        Assert.Equal([second], onNode2.Delivered);
    }

    [SkippableFact]
    public async Task A_message_to_a_user_with_no_session_on_any_node_is_taken_by_none()
    {
        var (node1, _, node3) = await ClusterAsync();
        var someoneElse = new RecordingSession("erin-on-node3");
        Assert.True((await node3.Engine.RegisterSessionAsync(new UserKey(App, "erin"), someoneElse)).IsAccepted);

        Assert.Equal(0, await node1.Engine.DeliverAsync(MessageTo(new UserKey(App, "dave"), "anyone there?")));
        Assert.Empty(someoneElse.Delivered);
    }

    [SkippableFact]
    public async Task The_kept_messages_notice_through_one_node_reaches_the_session_on_another()
    {
        var (_, node2, node3) = await ClusterAsync();
        var user = new UserKey(App, "frank");
        var onNode3 = new RecordingSession("frank-on-node3");
        var someoneElse = new RecordingSession("grace-on-node3");
        Assert.True((await node3.Engine.RegisterSessionAsync(user, onNode3)).IsAccepted);
        Assert.True((await node3.Engine.RegisterSessionAsync(new UserKey(App, "grace"), someoneElse)).IsAccepted);

        node2.Engine.NotifyKeptMessages(user);

        await AwaitAssertAsync(() => Assert.Equal(1, onNode3.KeptNotices), ThreeNodeCluster.Converge);
        Assert.Equal(0, someoneElse.KeptNotices);
    }

    [SkippableFact]
    public async Task A_node_that_does_not_answer_in_time_counts_as_no_sessions()
    {
        var (node1, _, node3) = await ClusterAsync();
        var user = new UserKey(App, "heidi");
        // A stand-in registry only on node 3: nodes 1 and 2 never answer at this path, so their asks time out.
        node3.System.ActorOf(Props.Create(() => new OneSessionRegistry()), "delivery-spec-registry");
        var sessions = node1.System.ActorOf(ClusterSessions.Props("/user/delivery-spec-registry", TimeSpan.FromMilliseconds(300)));

        var delivered = await sessions.Ask<MessageDelivered>(new DeliverToUser(MessageTo(user, "hi")), TimeSpan.FromSeconds(20));

        Assert.Equal(new MessageDelivered(user, 1), delivered);
    }

    private async Task<(ClusterNode Node1, ClusterNode Node2, ClusterNode Node3)> ClusterAsync()
    {
        _postgres.RequireOrSkip();
        return await _cluster.GetAsync(async started =>
        {
            var connectionString = await _postgres.CreateDatabaseAsync("delivery");
            var clock = new FakeTimeProvider(Start);
            return await ThreeNodeCluster.StartAsync(
                (name, port, seedPort) => ClusterNode.StartAsync(name, port, seedPort, connectionString, clock), started, _output.WriteLine);
        });
    }

    private static UserMessage MessageTo(UserKey user, string text) =>
        new(MessageIds.New(Start), user, "bob", "RC:TxtMsg", $$"""{"content":"{{text}}"}""", null, null, Start);

    /// <summary>One cluster for every spec of the class, started on first use and stopped after the last spec.</summary>
    public sealed class SharedCluster : IAsyncLifetime
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private readonly StartedNodes _nodes = new();
        private (ClusterNode, ClusterNode, ClusterNode)? _cluster;

        internal async Task<(ClusterNode Node1, ClusterNode Node2, ClusterNode Node3)> GetAsync(
            Func<Action<ClusterNode>, Task<(ClusterNode, ClusterNode, ClusterNode)>> start)
        {
            await _gate.WaitAsync();
            try
            {
                return _cluster ??= await start(_nodes.Add);
            }
            finally
            {
                _gate.Release();
            }
        }

        public Task InitializeAsync() => Task.CompletedTask;

        public Task DisposeAsync() => _nodes.DisposeAllAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    private sealed class OneSessionRegistry : ReceiveActor
    {
        public OneSessionRegistry() =>
            Receive<DeliverToUser>(d => Sender.Tell(new MessageDelivered(d.Message.To, 1)));
    }

    private sealed class RecordingSession(string id) : IBanSession
    {
        private readonly ConcurrentQueue<UserMessage> _delivered = new();
        private int _keptNotices;

        public string SessionId => id;

        public IReadOnlyList<UserMessage> Delivered => _delivered.ToList();

        public int KeptNotices => Volatile.Read(ref _keptNotices);

        public void Kick(int code, string reason)
        {
        }

        public bool TryDeliver(UserMessage message)
        {
            _delivered.Enqueue(message);
            return true;
        }

        public void NotifyKeptMessages() => Interlocked.Increment(ref _keptNotices);
    }
}
