namespace BanActors.Bench.Infra;

internal static class Stats
{
    /// <summary>The median of the rounds' figures (the mean of the middle two for an even count).</summary>
    public static double Median(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
