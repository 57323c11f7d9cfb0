using BanActors.Storage;

namespace BanActors.Tests.Storage;

public sealed class KeyedBatcherSpecs
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly string[] QueuedKeys = ["alice", "bob", "absent", "alice"];

    [Fact]
    public async Task Lookups_made_while_a_query_runs_are_answered_together_by_the_next_query()
    {
        var queries = new List<IReadOnlyCollection<string>>();
        var firstQueryStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstQueryMayEnd = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batcher = new KeyedBatcher<long>(async (keys, _) =>
        {
            lock (queries) queries.Add(keys.ToList());
            if (keys.Contains("first"))
            {
                firstQueryStarted.SetResult();
                await firstQueryMayEnd.Task;
            }
            return keys.Where(k => k != "absent").ToDictionary(k => k, k => (long)k.Length);
        }, absent: 0, maxBatch: 100, CancellationToken.None);

        var first = batcher.LookupAsync("first");
        await firstQueryStarted.Task.WaitAsync(Wait);
        var queued = QueuedKeys.Select(batcher.LookupAsync).ToList();
        firstQueryMayEnd.SetResult();

        Assert.Equal(5, await first.WaitAsync(Wait));
        var answers = await Task.WhenAll(queued).WaitAsync(Wait);
        Assert.Equal([5L, 3L, 0L, 5L], answers);
        Assert.Equal(2, queries.Count);
        Assert.Equal(["absent", "alice", "bob"], queries[1].Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_batch_holds_at_most_max_batch_distinct_lookups()
    {
        var sizes = new List<int>();
        var firstQueryStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstQueryMayEnd = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batcher = new KeyedBatcher<bool>(async (keys, _) =>
        {
            lock (sizes) sizes.Add(keys.Count);
            if (keys.Contains("k0"))
            {
                firstQueryStarted.SetResult();
                await firstQueryMayEnd.Task;
            }
            return keys.ToDictionary(k => k, _ => true);
        }, absent: false, maxBatch: 3, CancellationToken.None);

        var lookups = new List<Task<bool>> { batcher.LookupAsync("k0") };
        await firstQueryStarted.Task.WaitAsync(Wait);
        lookups.AddRange(Enumerable.Range(1, 6).Select(i => batcher.LookupAsync($"k{i}")));
        firstQueryMayEnd.SetResult();

        Assert.All(await Task.WhenAll(lookups).WaitAsync(Wait), Assert.True);
        Assert.Equal([1, 3, 3], sizes);
    }

    [Fact]
    public async Task A_failed_query_fails_the_lookups_of_its_batch_and_the_next_batch_still_runs()
    {
        var calls = 0;
        var batcher = new KeyedBatcher<long>((keys, _) =>
            Interlocked.Increment(ref calls) == 1
                ? Task.FromException<IReadOnlyDictionary<string, long>>(new InvalidOperationException("database is down"))
                : Task.FromResult<IReadOnlyDictionary<string, long>>(keys.ToDictionary(k => k, _ => 7L)),
            absent: 0, maxBatch: 10, CancellationToken.None);

        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.LookupAsync("a").WaitAsync(Wait));
        Assert.Equal("database is down", failed.Message);
        Assert.Equal(7, await batcher.LookupAsync("b").WaitAsync(Wait));
    }
}
