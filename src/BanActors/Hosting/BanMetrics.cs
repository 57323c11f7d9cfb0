using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace BanActors.Hosting;

/// <summary>
/// The engine's instruments, on the one meter <c>BanActors</c> that a host exports (OpenTelemetry:
/// <c>AddMeter("BanActors")</c>). Static, as the BCL's and ASP.NET Core's own meters are: actors record from any
/// thread without a reference being passed to each of them, and every engine of a process adds to the same series.
/// Attributes stay bounded: <c>app</c> (the app key), <c>cause</c>, <c>handler</c>; never a user id.
/// </summary>
internal static class BanMetrics
{
    public const string MeterName = "BanActors";

    public const string App = "app";
    public const string Cause = "cause";
    public const string Handler = "handler";

    private static readonly Meter Meter = new(MeterName);

    // ---- bans ----

    public static readonly Counter<long> Bans =
        Meter.CreateCounter<long>("banactors.bans", "{ban}", "Bans recorded (a re-ban too)");

    public static readonly Counter<long> Unbans =
        Meter.CreateCounter<long>("banactors.unbans", "{ban}", "Bans lifted, by cause: manual or expired");

    /// <summary>Per app: running bans whose end is not recorded yet, as the expiry index of each engine holds them.</summary>
    public static readonly GaugeSources<RunningBans> RunningBanSources = new();

    public static readonly ObservableGauge<long> RunningBansGauge = Meter.CreateObservableGauge("banactors.bans.running",
        () => RunningBanSources.All.SelectMany(s => s.Snapshot())
            .GroupBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(g => new Measurement<long>(g.Sum(kv => kv.Value), new KeyValuePair<string, object?>(App, g.Key))),
        "{ban}", "Bans running (not yet lifted), per app");

    public static readonly Histogram<double> JournalWriteDuration =
        Meter.CreateHistogram<double>("banactors.journal.write.duration", "ms",
            "From a user actor's persist call to the journal's confirmation (after its turn at the write gate)");

    public static readonly Histogram<double> ExpiryLag =
        Meter.CreateHistogram<double>("banactors.expiry.lag", "ms", "From a ban's end time to its expiry being recorded");

    /// <summary>User actors waiting for a turn at the write gate of each engine in this process.</summary>
    public static readonly GaugeSources<WriteGateQueue> WriteGateSources = new();

    public static readonly ObservableGauge<long> WriteGateWaiting = Meter.CreateObservableGauge("banactors.write_gate.waiting",
        () => WriteGateSources.All.Sum(q => (long)q.Waiting), "{actor}",
        "User actors waiting for a turn to write to the journal");

    // ---- sessions ----

    public static readonly Counter<long> SessionsKicked =
        Meter.CreateCounter<long>("banactors.sessions.kicked", "{session}", "Live sessions closed because a ban started");

    public static readonly Counter<long> ConnectsRefused =
        Meter.CreateCounter<long>("banactors.connects.refused", "{session}",
            "Connects refused, by cause: banned, or unavailable (the ban status could not be read)");

    // ---- kept (offline) messages ----

    public static readonly Counter<long> KeptMessagesStored =
        Meter.CreateCounter<long>("banactors.kept_messages.stored", "{message}", "Messages kept for offline or banned users");

    public static readonly Counter<long> KeptMessagesDelivered =
        Meter.CreateCounter<long>("banactors.kept_messages.delivered", "{message}", "Kept messages delivered on a connect");

    public static readonly Counter<long> KeptMessagesPurged =
        Meter.CreateCounter<long>("banactors.kept_messages.purged", "{message}", "Kept messages purged past the retention");

    /// <summary>
    /// Per app: counted in the store at start and after every purge, moved by this process's changes in between (in a
    /// cluster, other nodes' changes show at the next count).
    /// </summary>
    public static readonly GaugeSources<KeptMessageCount> KeptMessageSources = new();

    public static readonly ObservableGauge<long> KeptMessagesWaiting = Meter.CreateObservableGauge("banactors.kept_messages.waiting",
        () => KeptMessageSources.All.SelectMany(s => s.Snapshot())
            .GroupBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(g => new Measurement<long>(g.Sum(kv => kv.Value), new KeyValuePair<string, object?>(App, g.Key))),
        "{message}", "Kept messages waiting for their user to connect, per app");

    // ---- event feed ----

    public static readonly Counter<long> EventsDelivered =
        Meter.CreateCounter<long>("banactors.events.delivered", "{event}", "Events a handler took");

    public static readonly Counter<long> EventRetries =
        Meter.CreateCounter<long>("banactors.events.retries", "{attempt}", "Failed deliveries that will be retried");

    public static readonly Counter<long> EventDeadLetters =
        Meter.CreateCounter<long>("banactors.events.dead_letters", "{event}", "Events no longer retried");

    public static readonly Counter<long> EventsRedelivered =
        Meter.CreateCounter<long>("banactors.events.redelivered", "{event}",
            "Events delivered again after a restart or failover (possible duplicates)");

    public static readonly Histogram<double> EventLag =
        Meter.CreateHistogram<double>("banactors.events.lag", "ms", "From an event's time to its delivery");

    public static KeyValuePair<string, object?> AppTag(string appKey) => new(App, appKey);

    public static string CauseName(UnbanCause cause) => cause == UnbanCause.Manual ? "manual" : "expired";
}

/// <summary>The live sources of an observable gauge: one per engine (actor or service) that registers itself.</summary>
internal sealed class GaugeSources<T> where T : class
{
    private readonly ConcurrentDictionary<T, byte> _sources = new(ReferenceEqualityComparer.Instance);

    public IEnumerable<T> All => _sources.Keys;

    public T Add(T source)
    {
        _sources.TryAdd(source, 0);
        return source;
    }

    public void Remove(T source) => _sources.TryRemove(source, out _);
}

/// <summary>A count per app that one writer moves and the metrics exporter reads from another thread.</summary>
internal class CountsByApp
{
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public void Add(string appKey, long delta) => _counts.AddOrUpdate(appKey, delta, (_, count) => count + delta);

    /// <summary>Replaces every count (a recount); apps missing from <paramref name="counts"/> go to 0.</summary>
    public void Reset(IReadOnlyDictionary<string, long> counts)
    {
        foreach (var app in _counts.Keys)
            if (!counts.ContainsKey(app)) _counts[app] = 0;
        foreach (var (app, count) in counts) _counts[app] = count;
    }

    public long this[string appKey] => _counts.TryGetValue(appKey, out var count) ? count : 0;

    public IEnumerable<KeyValuePair<string, long>> Snapshot() => _counts.ToArray();
}

/// <inheritdoc cref="BanMetrics.RunningBanSources"/>
internal sealed class RunningBans : CountsByApp;

/// <inheritdoc cref="BanMetrics.KeptMessageSources"/>
internal sealed class KeptMessageCount
{
    private readonly object _lock = new();
    private readonly CountsByApp _counts = new();
    private Dictionary<string, long>? _sinceRecount;

    public void Add(string appKey, long delta)
    {
        lock (_lock)
        {
            _counts.Add(appKey, delta);
            if (_sinceRecount is { } since) since[appKey] = since.GetValueOrDefault(appKey) + delta;
        }
    }

    /// <summary>Before counting the store: changes from here on are added to what the count finds.</summary>
    public void BeginRecount()
    {
        lock (_lock) _sinceRecount = new Dictionary<string, long>(StringComparer.Ordinal);
    }

    public void EndRecount(IReadOnlyDictionary<string, long> counted)
    {
        lock (_lock)
        {
            var counts = new Dictionary<string, long>(counted, StringComparer.Ordinal);
            foreach (var (app, delta) in _sinceRecount ?? []) counts[app] = counts.GetValueOrDefault(app) + delta;
            _sinceRecount = null;
            _counts.Reset(counts);
        }
    }

    public IEnumerable<KeyValuePair<string, long>> Snapshot() => _counts.Snapshot();
}

/// <summary>One write gate's queue length, written by the gate and read by the exporter.</summary>
internal sealed class WriteGateQueue
{
    private int _waiting;

    public int Waiting => Volatile.Read(ref _waiting);

    public void Set(int waiting) => Volatile.Write(ref _waiting, waiting);
}
