namespace BanActors.Storage;

/// <summary>
/// A set of persistence ids that answers "certainly not added" or "maybe added": a Bloom filter of 12 bits and
/// 8 probes an id (about 0.3% false "maybe" in a full layer), which grows by a new layer twice the size of the last one
/// whenever that one is full (its false-"maybe" rate grows by one layer's each time the ids double). It never forgets an id:
/// an id that was added is never "certainly not added". Adds and lookups are safe from any thread.
/// </summary>
internal sealed class PersistenceIdFilter
{
    private const int BitsPerId = 12;
    private const int Probes = 8;
    private readonly object _grow = new();
    private volatile Layer[] _layers;

    /// <param name="initialCapacity">Ids the first layer holds at the nominal rate; each next layer holds twice as many.</param>
    public PersistenceIdFilter(int initialCapacity = 1 << 16) => _layers = [new Layer(Math.Max(64, initialCapacity))];

    /// <summary>Memory held by the bit arrays, in bytes.</summary>
    public long Bytes => _layers.Sum(l => (long)l.Words.Length * sizeof(long));

    public void Add(string id)
    {
        var hash = Hash(id);
        var layers = _layers;
        if (MightContain(layers, hash)) return;
        var newest = layers[^1];
        newest.Set(hash);
        if (Interlocked.Increment(ref newest.Count) == newest.Capacity) Grow(newest);
    }

    /// <summary>False only when <paramref name="id"/> was certainly never added.</summary>
    public bool MightContain(string id) => MightContain(_layers, Hash(id));

    private static bool MightContain(Layer[] layers, ulong hash)
    {
        foreach (var layer in layers)
            if (layer.Has(hash)) return true;
        return false;
    }

    private void Grow(Layer full)
    {
        lock (_grow)
        {
            var layers = _layers;
            if (!ReferenceEquals(layers[^1], full)) return;
            // An add that raced past the full layer's count has set its bits there already: still found.
            _layers = [.. layers, new Layer(checked(full.Capacity * 2))];
        }
    }

    // FNV-1a over the UTF-16 code units, then SplitMix64's finalizer for well-mixed bits in both halves.
    private static ulong Hash(string id)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in id)
        {
            hash ^= c;
            hash *= 1099511628211UL;
        }
        hash ^= hash >> 30;
        hash *= 0xBF58476D1CE4E5B9UL;
        hash ^= hash >> 27;
        hash *= 0x94D049BB133111EBUL;
        return hash ^ (hash >> 31);
    }

    private sealed class Layer(int capacity)
    {
        public readonly int Capacity = capacity;
        public readonly long[] Words = new long[((long)capacity * BitsPerId + 63) / 64];
        public int Count;

        private ulong Bits => (ulong)Words.Length * 64;

        // Double hashing (Kirsch and Mitzenmacher): probe i is h1 + i * h2, from the hash's two halves.
        public void Set(ulong hash)
        {
            ulong h1 = (uint)hash, h2 = (hash >> 32) | 1;
            for (var i = 0UL; i < Probes; i++)
            {
                var bit = (h1 + i * h2) % Bits;
                Interlocked.Or(ref Words[bit >> 6], 1L << (int)(bit & 63));
            }
        }

        public bool Has(ulong hash)
        {
            ulong h1 = (uint)hash, h2 = (hash >> 32) | 1;
            for (var i = 0UL; i < Probes; i++)
            {
                var bit = (h1 + i * h2) % Bits;
                if ((Volatile.Read(ref Words[bit >> 6]) & (1L << (int)(bit & 63))) == 0) return false;
            }
            return true;
        }
    }
}
