namespace BanActors.Storage;

/// <summary>
/// Answers single-key lookups with one query per batch: keys asked for while a query runs are collected and
/// looked up together in the next one (up to <c>maxBatch</c> keys). One query runs at a time; an idle batcher
/// queries at once, so a lone lookup waits for no one. A failed query fails exactly the lookups of its batch.
/// </summary>
internal sealed class KeyedBatcher<TValue>
{
    private readonly Func<IReadOnlyCollection<string>, CancellationToken, Task<IReadOnlyDictionary<string, TValue>>> _query;
    private readonly TValue _absent;
    private readonly int _maxBatch;
    private readonly CancellationToken _stopping;
    private readonly object _gate = new();
    private readonly Queue<(string Key, TaskCompletionSource<TValue> Answer)> _waiting = new();
    private bool _running;

    /// <param name="query">Looks up a set of distinct keys; a key missing from its answer gets <paramref name="absent"/>.</param>
    public KeyedBatcher(Func<IReadOnlyCollection<string>, CancellationToken, Task<IReadOnlyDictionary<string, TValue>>> query,
        TValue absent, int maxBatch, CancellationToken stopping)
    {
        _query = query;
        _absent = absent;
        _maxBatch = Math.Max(1, maxBatch);
        _stopping = stopping;
    }

    public Task<TValue> LookupAsync(string key)
    {
        var answer = new TaskCompletionSource<TValue>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool start;
        lock (_gate)
        {
            _waiting.Enqueue((key, answer));
            start = !_running;
            _running = true;
        }
        if (start) _ = Task.Run(RunAsync);
        return answer.Task;
    }

    private async Task RunAsync()
    {
        while (true)
        {
            var batch = new List<(string Key, TaskCompletionSource<TValue> Answer)>();
            lock (_gate)
            {
                while (batch.Count < _maxBatch && _waiting.TryDequeue(out var next)) batch.Add(next);
                if (batch.Count == 0)
                {
                    _running = false;
                    return;
                }
            }

            try
            {
                var keys = new HashSet<string>(batch.Select(b => b.Key), StringComparer.Ordinal);
                var found = await _query(keys, _stopping).ConfigureAwait(false);
                foreach (var (key, answer) in batch)
                    answer.TrySetResult(found.TryGetValue(key, out var value) ? value : _absent);
            }
            catch (Exception e)
            {
                foreach (var (_, answer) in batch) answer.TrySetException(e);
            }
        }
    }
}
