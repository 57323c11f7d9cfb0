using System.Collections.Concurrent;

namespace BanActors.Bench.Infra;

/// <summary>
/// The keys a timing callback has seen, each counted once. Its <see cref="Count"/> is a plain read, cheap on every
/// callback: <see cref="ConcurrentDictionary{TKey,TValue}.Count"/> takes every lock of the dictionary, and asking it
/// on each of thousands of callbacks was a tenth of the CPU of the expiries being timed.
/// </summary>
internal sealed class SeenSet
{
    private readonly ConcurrentDictionary<string, byte> _keys = new();
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>True the first time <paramref name="key"/> is seen.</summary>
    public bool TryAdd(string key)
    {
        if (!_keys.TryAdd(key, 0)) return false;
        Interlocked.Increment(ref _count);
        return true;
    }
}
