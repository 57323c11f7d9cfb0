using System.Collections.Concurrent;
using Akka.Cluster;
using BanActors.Testing;
using BanActors.Tests.Shared;
using BanActors.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace BanActors.Tests.Cluster;

/// <summary>
/// The event feed in a three-node cluster on PostgreSQL. Every node registers a handler of the same name (as DI does on
/// each node); one node at a time, the oldest, runs the feed's singleton and delivers. When it crashes in the middle
/// of a batch, a survivor resumes from the stored offset: duplicates are allowed and counted, losses are not.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterFeedSpecs : Akka.TestKit.Xunit2.TestKit
{
    private const string App = "app1";
    private const string Handler = "cluster-recorder";
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 8, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(40);
    private readonly StartedNodes _nodes = new();
    private readonly PostgresServer _postgres;
    private readonly ITestOutputHelper _output;
    private readonly System.Diagnostics.Stopwatch _elapsed = System.Diagnostics.Stopwatch.StartNew();

    public ClusterFeedSpecs(PostgresServer postgres, ITestOutputHelper output) : base(SpecConfig.With("akka.loglevel = WARNING"), output: output)
    {
        _postgres = postgres;
        _output = output;
    }

    private void Step(string what) => _output.WriteLine($"[{_elapsed.Elapsed.TotalSeconds,6:0.0} s] {what}");

    [SkippableFact]
    public async Task The_oldest_node_delivers_and_when_it_crashes_mid_batch_a_survivor_resumes_from_the_stored_offset_and_no_event_is_lost()
    {
        _postgres.RequireOrSkip();
        var connectionString = await _postgres.CreateDatabaseAsync("feed_failover");
        var clock = new FakeTimeProvider(Start);
        var deliveries = new ConcurrentQueue<Delivery>();
        // While set, the event of this user never gets an answer, on whichever node delivers it: its batch stays
        // unfinished, so the offset is not saved past it while the batch's other users are delivered.
        string? holdUser = null;
        var held = new TaskCompletionSource<Delivery>(TaskCreationOptions.RunContinuationsAsynchronously);
        var (node1, node2, node3) = await ThreeNodeCluster.StartAsync((name, port, seedPort) =>
        {
            var handler = new RecordingHandler(Handler) { Node = name, Log = deliveries };
            handler.Before = (e, ct) =>
            {
                if (e.UserId != Volatile.Read(ref holdUser)) return Task.CompletedTask;
                held.TrySetResult(new Delivery(name, e));
                return Task.Delay(Timeout.Infinite, ct);
            };
            return ClusterNode.StartAsync(name, port, seedPort, connectionString, clock, handlers: [handler]);
        }, _nodes.Add, Step);
        var all = new[] { node1, node2, node3 };
        var banned = new ConcurrentDictionary<string, byte>();

        await BanAsync(all, "first", 50, banned);
        await EveryLedgerEventDeliveredAsync(connectionString, clock, banned, deliveries);
        var delivering = Assert.Single(deliveries.Select(d => d.Node).Distinct());
        var dying = all.Single(n => n.Name == delivering);
        Assert.True(all.Where(n => n != dying).All(n => dying.Cluster.SelfMember.IsOlderThan(n.Cluster.SelfMember)),
            $"{delivering}, which delivered every event, is the oldest member");
        Step($"{deliveries.Count} events delivered, all by {delivering}, the oldest node");

        Volatile.Write(ref holdUser, "second-17");
        await BanAsync(all, "second", 30, banned);
        var stuck = await held.Task.WaitAsync(Bound);
        Assert.Equal(delivering, stuck.Node);
        Step($"{delivering} is stuck on event {stuck.Event.Id} with {deliveries.Count} deliveries made; crashing it");

        var address = dying.Address;
        await dying.CrashAsync();
        var deliveredBeforeCrash = deliveries.Count;
        Volatile.Write(ref holdUser, null);
        // Read while no node runs the feed: the survivor must resume from here.
        var (storedOffset, attempted) = await StoredOffsetAsync(connectionString);
        var survivors = all.Where(n => n != dying).ToArray();
        survivors[0].Cluster.Down(address);
        Step($"{dying.Name} terminated without leaving; downed from {survivors[0].Name}");
        await AwaitAssertAsync(() =>
        {
            foreach (var survivor in survivors)
            {
                var members = survivor.Cluster.State.Members;
                Assert.Equal(2, members.Count);
                Assert.All(members, m => Assert.Equal(MemberStatus.Up, m.Status));
            }
        }, Bound);
        Step($"{dying.Name} downed and removed; stored offset {storedOffset}, attempted up to {attempted}");

        await BanAsync(survivors, "third", 20, banned);
        var ledger = await EveryLedgerEventDeliveredAsync(connectionString, clock, banned, deliveries);

        var afterCrash = deliveries.Skip(deliveredBeforeCrash).ToList();
        var successor = Assert.Single(afterCrash.Select(d => d.Node).Distinct());
        Assert.NotEqual(delivering, successor);
        Assert.Contains(afterCrash, d => d.Event.Id == stuck.Event.Id);
        Assert.All(afterCrash, d => Assert.True(d.Event.Offset > storedOffset,
            $"{successor} delivered {d.Event.Id}, at or below the stored offset {storedOffset}"));
        var duplicates = deliveries.GroupBy(d => d.Event.Id).Where(g => g.Count() > 1).Select(g => g.First().Event.Offset).Order().ToList();
        // Only what had been handed to the crashed node's handler, and not yet saved as delivered, comes twice.
        Assert.All(duplicates, offset => Assert.InRange(offset, storedOffset + 1, attempted));
        var lost = ledger.Select(r => r.Id).Except(deliveries.Select(d => d.Event.Id)).ToList();
        Assert.Empty(lost);
        Step($"{ledger.Count} events in the ledger, {deliveries.Count} deliveries ({deliveredBeforeCrash} by {delivering}, "
            + $"{afterCrash.Count} by {successor} after the failover), {duplicates.Count} duplicates "
            + $"[{string.Join(", ", duplicates)}], {lost.Count} lost");
    }

    /// <summary>Bans <paramref name="count"/> users at once, through the given nodes in turn, each with a reason.</summary>
    private async Task BanAsync(ClusterNode[] through, string wave, int count, ConcurrentDictionary<string, byte> banned)
    {
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            var user = $"{wave}-{i}";
            // An hour or more: none ends while the spec moves the clock.
            await through[i % through.Length].Engine.BanAsync(new UserKey(App, user), 60 + i, new BanDetails($"{wave} wave, #{i}", "ops"));
            banned[user] = 0;
        }));
        Step($"{count} bans of the {wave} wave acknowledged through {string.Join(", ", through.Select(n => n.Name))}");
    }

    /// <summary>
    /// Waits (bounded) until every acknowledged ban is in the ledger and every event of the ledger was delivered at
    /// least once; returns the ledger. Moves the engine's clock a second per poll: a projection that failed (a
    /// database error) restarts on that clock.
    /// </summary>
    private async Task<List<(string Id, string UserId)>> EveryLedgerEventDeliveredAsync(string connectionString, FakeTimeProvider clock,
        ConcurrentDictionary<string, byte> banned, ConcurrentQueue<Delivery> deliveries)
    {
        List<(string Id, string UserId)> ledger = [];
        await AwaitAssertAsync(async () =>
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            ledger = await LedgerAsync(connectionString);
            Assert.Empty(banned.Keys.Except(ledger.Select(r => r.UserId)));
            Assert.Empty(ledger.Select(r => r.Id).Except(deliveries.Select(d => d.Event.Id)));
        }, Bound, TimeSpan.FromMilliseconds(100));
        return ledger;
    }

    private static async Task<List<(string Id, string UserId)>> LedgerAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT ordering, user_id FROM ban_ledger ORDER BY ordering", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string)>();
        while (await reader.ReadAsync()) rows.Add((reader.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture), reader.GetString(1)));
        return rows;
    }

    private static async Task<(long Delivered, long Attempted)> StoredOffsetAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT offset_value, attempted FROM ban_feed_offset WHERE handler = @h", connection);
        command.Parameters.AddWithValue("h", Handler);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), "the handler has a stored offset");
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _nodes.DisposeAllAsync().Wait(TimeSpan.FromSeconds(30));
        base.Dispose(disposing);
    }
}
