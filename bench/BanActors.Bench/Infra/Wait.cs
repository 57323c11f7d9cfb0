using System.Diagnostics;

namespace BanActors.Bench.Infra;

internal static class Wait
{
    /// <summary>Checks <paramref name="done"/> every 20 ms until it holds or <paramref name="bound"/> has passed; returns the time waited.</summary>
    public static async Task<TimeSpan> UntilAsync(Func<bool> done, TimeSpan bound)
    {
        var waited = Stopwatch.StartNew();
        while (!done() && waited.Elapsed < bound) await Task.Delay(20);
        return waited.Elapsed;
    }
}
