using System.Diagnostics;

namespace BanActors.Bench.Infra;

/// <summary>Latency samples in Stopwatch ticks; percentiles by nearest rank over every sample (no sampling).</summary>
public sealed class Latencies(int capacity)
{
    private readonly long[] _ticks = new long[Math.Max(1, capacity)];
    private int _count;

    public int Count => Math.Min(_count, _ticks.Length);

    public void Add(long ticks)
    {
        var i = Interlocked.Increment(ref _count) - 1;
        if (i < _ticks.Length) _ticks[i] = ticks;
    }

    public void AddMs(double ms) => Add((long)(ms * Stopwatch.Frequency / 1000.0));

    public LatencySummary Summarize()
    {
        var n = Count;
        if (n == 0) return LatencySummary.Empty;
        var sorted = _ticks.AsSpan(0, n).ToArray();
        Array.Sort(sorted);
        double Ms(long t) => t * 1000.0 / Stopwatch.Frequency;
        double At(double p) => Ms(sorted[Math.Clamp((int)Math.Ceiling(p * n) - 1, 0, n - 1)]);
        return new LatencySummary(n, At(0.50), At(0.99), Ms(sorted[^1]), sorted.Average(t => Ms(t)));
    }
}

/// <summary>Percentiles in milliseconds.</summary>
public sealed record LatencySummary(int Samples, double P50Ms, double P99Ms, double MaxMs, double MeanMs)
{
    public static readonly LatencySummary Empty = new(0, double.NaN, double.NaN, double.NaN, double.NaN);
}
