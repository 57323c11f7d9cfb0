using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace BanActors.Testing;

/// <summary>
/// Listens to the engine's meter <c>BanActors</c> for one spec. The meter is static and specs run in parallel in one
/// process, so a spec reads only the measurements of its own app key (<see cref="Sum"/>, <see cref="Observe"/> filter
/// by attributes).
/// </summary>
internal sealed class MetricRecorder : IDisposable
{
    public sealed record Measured(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
    {
        public bool Has(IEnumerable<(string Key, object? Value)> tags) =>
            tags.All(t => Tags.TryGetValue(t.Key, out var v) && Equals(v, t.Value));
    }

    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Measured> _measured = new();
    private readonly object _observing = new();
    private List<Measured>? _observed;

    public MetricRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "BanActors") listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var measured = new Measured(instrument.Name, value, new Dictionary<string, object?>(tags.ToArray()));
        if (instrument.GetType().Name.StartsWith("Observable", StringComparison.Ordinal))
        {
            // Observed only inside Observe, under its lock.
            _observed?.Add(measured);
            return;
        }
        _measured.Enqueue(measured);
    }

    /// <summary>Every measurement of a counter or histogram carrying all of <paramref name="tags"/>.</summary>
    public IReadOnlyList<double> Values(string instrument, params (string Key, object? Value)[] tags) =>
        _measured.Where(m => m.Instrument == instrument && m.Has(tags)).Select(m => m.Value).ToList();

    /// <summary>The sum of a counter's measurements carrying all of <paramref name="tags"/>.</summary>
    public double Sum(string instrument, params (string Key, object? Value)[] tags) => Values(instrument, tags).Sum();

    /// <summary>An observable gauge's value now, summed over its series that carry all of <paramref name="tags"/> (0: none).</summary>
    public double Observe(string instrument, params (string Key, object? Value)[] tags)
    {
        lock (_observing)
        {
            _observed = [];
            try
            {
                _listener.RecordObservableInstruments();
                return _observed.Where(m => m.Instrument == instrument && m.Has(tags)).Sum(m => m.Value);
            }
            finally
            {
                _observed = null;
            }
        }
    }

    /// <summary>Waits (bounded, for I/O that settles asynchronously; never for a timer) until <paramref name="done"/> holds.</summary>
    public static async Task EventuallyAsync(Func<bool> done, string what, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {seconds} s: {what}");
            await Task.Delay(20);
        }
    }

    public void Dispose() => _listener.Dispose();
}
