using System.Diagnostics;

namespace BanActors.Bench.Infra;

/// <summary>What one bounded load step measured.</summary>
public sealed record LoadResult(int Requested, int Completed, int Failures, TimeSpan Elapsed, TimeSpan CpuTime,
    LatencySummary Latency, string? FirstError, bool TimedOut)
{
    /// <summary>Methods the JIT compiled during the step (dynamic methods from expression compilation included).</summary>
    public long JittedMethods { get; init; }

    /// <summary>Garbage collections (gen0, gen1, gen2) during the step.</summary>
    public (int Gen0, int Gen1, int Gen2) Collections { get; init; }

    /// <summary>Bytes allocated by the whole process during the step.</summary>
    public long AllocatedBytes { get; init; }

    public double PerSecond => Completed / Math.Max(Elapsed.TotalSeconds, 1e-9);

    /// <summary>CPU time of the whole process per completed operation, in microseconds.</summary>
    public double CpuMicrosPerOp => Completed == 0 ? double.NaN : CpuTime.TotalMilliseconds * 1000.0 / Completed;
}

/// <summary>A closed-loop load driver: <c>concurrency</c> workers, each awaiting one operation at a time.</summary>
public static class Load
{
    /// <summary>
    /// Runs <paramref name="operation"/> for indexes 0..n-1 with at most <paramref name="concurrency"/> in flight,
    /// stopping early (and saying so) when <paramref name="maxDuration"/> has passed. Bounded in count and time.
    /// </summary>
    public static async Task<LoadResult> RunAsync(int n, int concurrency, TimeSpan maxDuration, Func<int, Task> operation)
    {
        var latencies = new Latencies(n);
        var next = -1;
        var failures = 0;
        var completed = 0;
        string? firstError = null;
        var timedOut = false;
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var jitBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
        var allocBefore = GC.GetTotalAllocatedBytes();
        var gc0 = GC.CollectionCount(0);
        var gc1 = GC.CollectionCount(1);
        var gc2 = GC.CollectionCount(2);
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(maxDuration.TotalSeconds * Stopwatch.Frequency);

        async Task Worker()
        {
            await Task.Yield();
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= n) return;
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    timedOut = true;
                    return;
                }
                var t0 = Stopwatch.GetTimestamp();
                try
                {
                    await operation(i).ConfigureAwait(false);
                    latencies.Add(Stopwatch.GetTimestamp() - t0);
                    Interlocked.Increment(ref completed);
                }
                catch (Exception ex)
                {
                    Interlocked.Increment(ref failures);
                    Interlocked.CompareExchange(ref firstError, $"{ex.GetType().Name}: {ex.Message}", null);
                }
            }
        }

        var workers = new Task[Math.Max(1, Math.Min(concurrency, n))];
        for (var w = 0; w < workers.Length; w++) workers[w] = Worker();
        await Task.WhenAll(workers).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(started);
        process.Refresh();
        return new LoadResult(n, completed, failures, elapsed, process.TotalProcessorTime - cpuBefore,
            latencies.Summarize(), firstError, timedOut)
        {
            JittedMethods = System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore,
            AllocatedBytes = GC.GetTotalAllocatedBytes() - allocBefore,
            Collections = (GC.CollectionCount(0) - gc0, GC.CollectionCount(1) - gc1, GC.CollectionCount(2) - gc2),
        };
    }
}
